import { bindPage, toggleLang } from "./common/i18n.js";

bindPage();
document.getElementById("lang-switch").addEventListener("click", toggleLang);
const storeName = window.SHOPDESK_CONFIG?.storeName;
if (storeName) document.getElementById("store-name").textContent = storeName;
