// Demo product page behaviour: option selection, quantity and a cart counter (no real checkout).
const $ = (id) => document.getElementById(id);
const storeName = window.SHOPDESK_CONFIG?.storeName;
if (storeName) $("store-name").textContent = storeName;

function selectable(groupId, onSelect) {
  const group = $(groupId);
  group.addEventListener("click", (ev) => {
    const btn = ev.target.closest("button.choice");
    if (!btn || btn.disabled) return;
    for (const b of group.querySelectorAll(".choice")) b.classList.toggle("is-selected", b === btn);
    onSelect?.(btn);
  });
}

function setColour(colour) {
  document.documentElement.style.setProperty("--jacket", colour);
}

for (const btn of $("colors").querySelectorAll(".choice")) {
  const thumb = document.createElement("button");
  thumb.type = "button";
  thumb.className = "thumb";
  thumb.title = btn.textContent;
  thumb.style.setProperty("--swatch", btn.dataset.color);
  thumb.addEventListener("click", () => btn.click());
  $("thumbs").append(thumb);
}
selectable("colors", (btn) => setColour(btn.dataset.color));
selectable("sizes");
setColour($("colors").querySelector(".is-selected").dataset.color);

const qty = $("qty");
const clampQty = (n) => Math.min(99, Math.max(1, Number.isFinite(n) ? n : 1));
$("qty-minus").addEventListener("click", () => { qty.value = clampQty(Number(qty.value) - 1); });
$("qty-plus").addEventListener("click", () => { qty.value = clampQty(Number(qty.value) + 1); });
qty.addEventListener("change", () => { qty.value = clampQty(Math.round(Number(qty.value))); });

let toastTimer;
function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 2000);
}

let cart = 0;
$("add-to-cart").addEventListener("click", () => {
  cart += Number(qty.value);
  $("cart-count").textContent = String(cart);
  const colour = $("colors").querySelector(".is-selected").textContent;
  const size = $("sizes").querySelector(".is-selected").textContent;
  toast(`已加入购物车：${colour} / ${size} × ${qty.value}`);
});
document.querySelector(".buy").addEventListener("click", () => toast("演示店铺暂不支持下单"));
document.querySelector(".search").addEventListener("submit", (ev) => ev.preventDefault());
