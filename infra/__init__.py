"""Infrastructure tooling for ShopDesk."""
