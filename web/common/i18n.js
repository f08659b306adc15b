// Minimal i18n: zh-CN by default, English on demand; the choice is kept in localStorage.
const STORAGE_KEY = "shopdesk.lang";
export const LANGS = ["zh-CN", "en"];

const DICT = {
  "zh-CN": {
    "lang.switch": "EN",
    "lang.switch.title": "Switch to English",

    "landing.title": "ShopDesk 在线客服平台",
    "landing.subtitle": "为网店打造的一站式客服：访客咨询、智能分配、排队接入、转接与满意度评价。",
    "landing.shop.title": "演示店铺",
    "landing.shop.desc": "以买家身份浏览商品页，点击右下角「联系客服」发起咨询。",
    "landing.shop.cta": "进入店铺",
    "landing.agent.title": "客服工作台",
    "landing.agent.desc": "客服登录后接入排队会话，使用快捷回复、转接和结束会话。",
    "landing.agent.cta": "进入工作台",
    "landing.f1.title": "多渠道接入",
    "landing.f1.desc": "网页、App 与小程序的咨询统一进入一个工作台。",
    "landing.f2.title": "智能分配",
    "landing.f2.desc": "按技能组和接待上限自动分配，超时自动提醒。",
    "landing.f3.title": "服务评价",
    "landing.f3.desc": "会话结束后邀请买家评价，问题是否解决一目了然。",
    "landing.footer": "ShopDesk · 基于 AWS 无服务器架构",

    "chat.typing": "正在输入…",
    "chat.sending": "发送中…",
    "chat.failed": "发送失败，点击重发",
    "chat.uploading": "图片上传中…",
    "chat.sent": "未读",
    "chat.read": "已读",
    "chat.image": "[图片]",
    "chat.emoji": "表情",
    "chat.imageButton": "发送图片",
    "chat.counter": "{n}/{max}",
    "chat.history.failed": "历史消息加载失败",

    "w.launcher": "联系客服",
    "w.title": "在线客服",
    "w.close": "收起",
    "w.status.connecting": "正在连接…",
    "w.status.reconnecting": "连接已断开，正在重连…",
    "w.status.new": "您好，请问有什么可以帮您？",
    "w.status.queued": "排队中 第{n}位",
    "w.status.queuedNoPos": "排队中，请稍候",
    "w.status.active": "客服 {name} 为您服务",
    "w.status.activeNoName": "客服正在为您服务",
    "w.status.ended": "会话已结束",
    "w.status.offline": "已留言",
    "w.status.error": "暂时无法连接客服",
    "w.retry": "重试",
    "w.placeholder": "请输入您的问题，Enter 发送，Shift+Enter 换行",
    "w.send": "发送",
    "w.offline.noAgent": "客服暂时不在线",
    "w.offline.afterHours": "当前为非工作时间",
    "w.offline.desc": "请留下您的问题和联系方式，客服上线后会尽快联系您。",
    "w.offline.text": "请描述您的问题",
    "w.offline.contact": "联系方式（手机号或邮箱）",
    "w.offline.submit": "提交留言",
    "w.offline.done": "留言已提交，客服上线后会尽快联系您。",
    "w.offline.chat": "仍要在线咨询",
    "w.offline.required": "请填写问题和联系方式",
    "w.newChat": "发起新会话",
    "w.ended": "本次会话已结束",

    "rating.title": "请为本次服务评价",
    "rating.star": "{n} 星",
    "rating.solved": "问题是否已解决？",
    "rating.yes": "已解决",
    "rating.no": "未解决",
    "rating.comment": "说说您的感受（选填）",
    "rating.submit": "提交评价",
    "rating.needStars": "请先选择星级",
    "rating.needSolved": "请选择问题是否已解决",
    "rating.thanks": "感谢您的评价，祝您购物愉快！",

    "a.title": "客服工作台",
    "a.login.title": "登录客服工作台",
    "a.login.subtitle": "使用管理员为您分配的账号登录",
    "a.login.username": "用户名",
    "a.login.password": "密码",
    "a.login.submit": "登录",
    "a.login.busy": "登录中…",
    "a.login.failed": "用户名或密码错误",
    "a.login.expired": "登录已过期，请重新登录",
    "a.logout": "退出登录",
    "a.status": "接待状态",
    "a.conn.open": "已连接",
    "a.conn.connecting": "连接中…",
    "a.conn.closed": "连接断开，正在重连…",
    "a.queue": "排队中",
    "a.queue.empty": "暂无排队的客户",
    "a.accept": "接入",
    "a.waiting": "已等待 {t}",
    "a.offlineMessage": "留言",
    "a.contact": "联系方式：{c}",
    "a.noPreview": "（客户尚未发言）",
    "a.sessions": "我的会话",
    "a.sessions.empty": "暂无进行中的会话",
    "a.visitorLabel": "访客 {id}",
    "a.overdue": "超时未回复",
    "a.noPane": "从左侧选择或接入一个会话开始接待",
    "a.transfer": "转接",
    "a.end": "结束会话",
    "a.closePane": "关闭",
    "a.ended": "会话已结束",
    "a.reminder": "客户已等待 {n} 秒",
    "a.reply.placeholder": "输入回复，Enter 发送，Shift+Enter 换行",
    "a.send": "发送",
    "a.accepted": "已接入会话",
    "a.endedToast": "会话已结束，已邀请客户评价",
    "a.transferred": "会话已转接",
    "a.openPaneFirst": "请先打开一个会话",

    "a.quick": "快捷回复",
    "a.quick.search": "搜索快捷回复",
    "a.quick.empty": "没有匹配的快捷回复",
    "a.quick.add": "新增个人快捷回复",
    "a.quick.titleField": "标题",
    "a.quick.text": "回复内容",
    "a.quick.keywords": "关键词，用逗号分隔",
    "a.quick.save": "保存",
    "a.quick.saved": "快捷回复已保存",
    "scope.store": "店铺",
    "scope.personal": "个人",

    "transfer.title": "转接会话",
    "transfer.toAgent": "转给客服",
    "transfer.toGroup": "转给技能组",
    "transfer.agent": "选择客服",
    "transfer.group": "选择技能组",
    "transfer.reason": "转接原因（必填）",
    "transfer.reasonPlaceholder": "例如：客户咨询售后退换，需售后组处理",
    "transfer.submit": "确认转接",
    "transfer.cancel": "取消",
    "transfer.needReason": "请填写转接原因",
    "transfer.needTarget": "请选择转接对象",
    "transfer.noAgents": "暂无其他客服",
    "transfer.load": "{a}/{c}",

    "visitor.title": "访客信息",
    "visitor.empty": "打开会话后显示访客信息",
    "visitor.id": "访客 ID",
    "visitor.channel": "渠道",
    "visitor.page": "来源页面",
    "visitor.created": "开始时间",
    "visitor.group": "技能组",
    "visitor.history": "历史会话",
    "visitor.noHistory": "暂无历史会话",
    "visitor.current": "当前",
    "visitor.solved": "已解决",
    "visitor.unsolved": "未解决",

    "role.agent": "客服",
    "role.leader": "组长",
    "role.admin": "管理员",
    "status.online": "在线",
    "status.away": "离开",
    "status.offline": "离线",
    "channel.web": "网页",
    "channel.app": "App",
    "channel.mini_program": "小程序",
    "sstatus.new": "新会话",
    "sstatus.queued": "排队中",
    "sstatus.active": "进行中",
    "sstatus.ended": "已结束",
    "sstatus.offline": "留言",

    "dur.s": "{n}秒",
    "dur.m": "{n}分钟",
    "dur.h": "{h}小时{m}分",

    "err.invalid_json": "请求格式错误",
    "err.unknown_route": "不支持的操作",
    "err.validation_error": "填写的内容不完整或格式不正确",
    "err.message_too_long": "消息最多 4000 个字符",
    "err.frame_too_large": "消息内容过大",
    "err.image_type_not_allowed": "仅支持 JPG、PNG、GIF、WebP 格式的图片",
    "err.image_too_large": "图片不能超过 5 MB",
    "err.image_missing": "图片未上传成功，请重新选择",
    "err.unauthenticated": "身份已失效，请重新登录",
    "err.wrong_store": "不属于当前店铺",
    "err.forbidden": "没有权限执行此操作",
    "err.not_participant": "您不是该会话的参与者",
    "err.not_found": "会话或对象不存在",
    "err.session_closed": "会话已结束，无法继续发送",
    "err.already_assigned": "该会话已被其他客服接入",
    "err.over_capacity": "已达到接待上限，请先结束部分会话",
    "err.already_rated": "您已经评价过本次会话",
    "err.rate_limited": "发送太频繁，请稍后再试",
    "err.network": "网络连接失败，请检查网络后重试",
    "err.upload_failed": "图片上传失败，请重试",
    "err.unknown": "操作失败，请稍后重试",
  },
  en: {
    "lang.switch": "中文",
    "lang.switch.title": "切换到中文",

    "landing.title": "ShopDesk customer service",
    "landing.subtitle": "Live chat for online shops: visitor chat, smart routing, queueing, transfers and satisfaction ratings.",
    "landing.shop.title": "Demo shop",
    "landing.shop.desc": "Browse a product page as a buyer and click “Chat with us” at the bottom right.",
    "landing.shop.cta": "Open the shop",
    "landing.agent.title": "Agent workspace",
    "landing.agent.desc": "Agents sign in to take queued chats, use quick replies, transfer and end conversations.",
    "landing.agent.cta": "Open the workspace",
    "landing.f1.title": "Every channel",
    "landing.f1.desc": "Web, app and mini-program chats arrive in one workspace.",
    "landing.f2.title": "Smart routing",
    "landing.f2.desc": "Assignment by skill group and capacity, with reminders when a customer waits.",
    "landing.f3.title": "Ratings",
    "landing.f3.desc": "Buyers rate each conversation and say whether it was solved.",
    "landing.footer": "ShopDesk · serverless on AWS",

    "chat.typing": "Typing…",
    "chat.sending": "Sending…",
    "chat.failed": "Not sent, click to retry",
    "chat.uploading": "Uploading image…",
    "chat.sent": "Unread",
    "chat.read": "Read",
    "chat.image": "[Image]",
    "chat.emoji": "Emoji",
    "chat.imageButton": "Send an image",
    "chat.counter": "{n}/{max}",
    "chat.history.failed": "Could not load earlier messages",

    "w.launcher": "Chat with us",
    "w.title": "Customer service",
    "w.close": "Minimise",
    "w.status.connecting": "Connecting…",
    "w.status.reconnecting": "Connection lost, reconnecting…",
    "w.status.new": "Hello! How can we help you?",
    "w.status.queued": "In queue, position {n}",
    "w.status.queuedNoPos": "In queue, please wait",
    "w.status.active": "{name} is serving you",
    "w.status.activeNoName": "An agent is serving you",
    "w.status.ended": "Conversation ended",
    "w.status.offline": "Message left",
    "w.status.error": "Customer service is unreachable right now",
    "w.retry": "Retry",
    "w.placeholder": "Type your question. Enter sends, Shift+Enter adds a line",
    "w.send": "Send",
    "w.offline.noAgent": "No agent is available right now",
    "w.offline.afterHours": "We are outside business hours",
    "w.offline.desc": "Leave your question and contact details and we will get back to you soon.",
    "w.offline.text": "Describe your question",
    "w.offline.contact": "Contact (phone or email)",
    "w.offline.submit": "Leave a message",
    "w.offline.done": "Thanks, we received your message and will contact you soon.",
    "w.offline.chat": "Chat anyway",
    "w.offline.required": "Please fill in your question and contact details",
    "w.newChat": "New conversation",
    "w.ended": "This conversation has ended",

    "rating.title": "How did we do?",
    "rating.star": "{n} stars",
    "rating.solved": "Was your problem solved?",
    "rating.yes": "Solved",
    "rating.no": "Not solved",
    "rating.comment": "Anything to add? (optional)",
    "rating.submit": "Submit",
    "rating.needStars": "Please choose a rating first",
    "rating.needSolved": "Please tell us whether it was solved",
    "rating.thanks": "Thank you for your feedback!",

    "a.title": "Agent workspace",
    "a.login.title": "Sign in to the agent workspace",
    "a.login.subtitle": "Use the account your administrator gave you",
    "a.login.username": "Username",
    "a.login.password": "Password",
    "a.login.submit": "Sign in",
    "a.login.busy": "Signing in…",
    "a.login.failed": "Wrong username or password",
    "a.login.expired": "Your sign-in has expired, please sign in again",
    "a.logout": "Sign out",
    "a.status": "Availability",
    "a.conn.open": "Connected",
    "a.conn.connecting": "Connecting…",
    "a.conn.closed": "Disconnected, reconnecting…",
    "a.queue": "Queue",
    "a.queue.empty": "No one is waiting",
    "a.accept": "Accept",
    "a.waiting": "Waiting {t}",
    "a.offlineMessage": "Offline message",
    "a.contact": "Contact: {c}",
    "a.noPreview": "(nothing said yet)",
    "a.sessions": "My conversations",
    "a.sessions.empty": "No active conversations",
    "a.visitorLabel": "Visitor {id}",
    "a.overdue": "Waiting for reply",
    "a.noPane": "Pick or accept a conversation on the left to start",
    "a.transfer": "Transfer",
    "a.end": "End chat",
    "a.closePane": "Close",
    "a.ended": "Conversation ended",
    "a.reminder": "The customer has waited {n} s",
    "a.reply.placeholder": "Type a reply. Enter sends, Shift+Enter adds a line",
    "a.send": "Send",
    "a.accepted": "Conversation accepted",
    "a.endedToast": "Conversation ended; the customer was asked to rate it",
    "a.transferred": "Conversation transferred",
    "a.openPaneFirst": "Open a conversation first",

    "a.quick": "Quick replies",
    "a.quick.search": "Search quick replies",
    "a.quick.empty": "No matching quick replies",
    "a.quick.add": "Add a personal quick reply",
    "a.quick.titleField": "Title",
    "a.quick.text": "Reply text",
    "a.quick.keywords": "Keywords, comma separated",
    "a.quick.save": "Save",
    "a.quick.saved": "Quick reply saved",
    "scope.store": "Store",
    "scope.personal": "Mine",

    "transfer.title": "Transfer conversation",
    "transfer.toAgent": "To an agent",
    "transfer.toGroup": "To a group",
    "transfer.agent": "Agent",
    "transfer.group": "Skill group",
    "transfer.reason": "Reason (required)",
    "transfer.reasonPlaceholder": "e.g. a return request for the after-sales team",
    "transfer.submit": "Transfer",
    "transfer.cancel": "Cancel",
    "transfer.needReason": "Please give a reason",
    "transfer.needTarget": "Please choose where to transfer",
    "transfer.noAgents": "No other agents",
    "transfer.load": "{a}/{c}",

    "visitor.title": "Visitor",
    "visitor.empty": "Open a conversation to see the visitor",
    "visitor.id": "Visitor ID",
    "visitor.channel": "Channel",
    "visitor.page": "Page",
    "visitor.created": "Started",
    "visitor.group": "Group",
    "visitor.history": "Past conversations",
    "visitor.noHistory": "No past conversations",
    "visitor.current": "current",
    "visitor.solved": "Solved",
    "visitor.unsolved": "Not solved",

    "role.agent": "Agent",
    "role.leader": "Leader",
    "role.admin": "Admin",
    "status.online": "Online",
    "status.away": "Away",
    "status.offline": "Offline",
    "channel.web": "Web",
    "channel.app": "App",
    "channel.mini_program": "Mini program",
    "sstatus.new": "New",
    "sstatus.queued": "Queued",
    "sstatus.active": "Active",
    "sstatus.ended": "Ended",
    "sstatus.offline": "Offline message",

    "dur.s": "{n} s",
    "dur.m": "{n} min",
    "dur.h": "{h} h {m} min",

    "err.invalid_json": "The request was malformed",
    "err.unknown_route": "Unsupported action",
    "err.validation_error": "Some fields are missing or invalid",
    "err.message_too_long": "A message holds at most 4,000 characters",
    "err.frame_too_large": "The message is too large",
    "err.image_type_not_allowed": "Only JPG, PNG, GIF and WebP images are allowed",
    "err.image_too_large": "Images must be 5 MB or smaller",
    "err.image_missing": "The image was not uploaded, please choose it again",
    "err.unauthenticated": "Your session has expired, please sign in again",
    "err.wrong_store": "This belongs to another store",
    "err.forbidden": "You are not allowed to do this",
    "err.not_participant": "You are not part of this conversation",
    "err.not_found": "Not found",
    "err.session_closed": "This conversation has ended",
    "err.already_assigned": "Another agent already took this conversation",
    "err.over_capacity": "You are at your chat capacity; end a chat first",
    "err.already_rated": "You have already rated this conversation",
    "err.rate_limited": "You are sending too fast, please wait a moment",
    "err.network": "Network error, please check your connection and retry",
    "err.upload_failed": "The image upload failed, please retry",
    "err.unknown": "Something went wrong, please try again",
  },
};

const listeners = new Set();

function readStoredLang() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return LANGS.includes(stored) ? stored : LANGS[0];
  } catch {
    return LANGS[0];
  }
}

let current = readStoredLang();

export function getLang() {
  return current;
}

export function setLang(lang) {
  if (!LANGS.includes(lang) || lang === current) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Private mode: the choice simply lasts for this page.
  }
  for (const fn of listeners) fn(lang);
}

export function toggleLang() {
  setLang(current === "zh-CN" ? "en" : "zh-CN");
}

export function onLangChange(fn) {
  listeners.add(fn);
}

export function has(key) {
  return key in DICT[current];
}

export function t(key, params = {}) {
  const text = DICT[current][key] ?? DICT["zh-CN"][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

// Fills static markup: data-i18n (text), data-i18n-placeholder, data-i18n-title, data-i18n-aria-label.
export function translateTree(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
}

// Keeps <html lang> and the static texts of a whole page in step with the chosen language.
export function bindPage() {
  const apply = () => {
    document.documentElement.lang = current;
    translateTree(document);
  };
  apply();
  onLangChange(apply);
}

// A readable line for an API or WebSocket error: known codes are translated, others show the server's message.
export function errorText(err) {
  const code = err && err.code;
  if (code && has(`err.${code}`)) return t(`err.${code}`);
  return (err && err.message) || t("err.unknown");
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return t("dur.s", { n: s });
  if (s < 3600) return t("dur.m", { n: Math.floor(s / 60) });
  return t("dur.h", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

export function formatTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  const opts = sameDay
    ? { hour: "2-digit", minute: "2-digit" }
    : { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" };
  return d.toLocaleString(current, opts);
}
