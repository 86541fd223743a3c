// botlang studio: the page's behaviour. Plain JavaScript, no build step. Every text the
// bot or the flow brings is set with textContent; only Mermaid's own SVG is inserted.
"use strict";

const TEXTS = {
  en: {
    skip_to_chat: "Skip to the chat",
    language: "Language",
    restart: "Start over",
    diagram: "Diagram",
    chat: "Chat",
    inspector: "Client",
    problems: "Checker",
    legend: "Thick arrows: start conditions; dotted: quick answers; blue: callbacks; " +
      "red: a loop without an exit; grey dashed: an unreachable block. " +
      "The client's block is orange.",
    buttons_on_offer: "Buttons on offer",
    message: "Message",
    send: "Send",
    callbacks_and_calls: "Events, calls and the clock",
    event: "Event (callback)",
    event_vars: "with variables",
    send_event: "Send event",
    call_ended: "A call ended:",
    outcome: "Calls end",
    outcome_for: "For which calls",
    every_call: "every call",
    next_call: "the next call",
    apply: "Apply",
    clock: "Virtual clock",
    set_clock: "Set",
    advance: "Advance the clock",
    enter_block: "Put the client in block",
    enter: "Enter",
    test_name: "Test name",
    save_test: "Save as test",
    client: "Client",
    variables: "Variables",
    calls: "Calls",
    timers: "Pending timers",
    errors: "Errors",
    loads: "flow loads",
    does_not_load: "flow has errors",
    stale: "The file has errors (see the checker): the diagram and the bot are the last " +
      "version that loaded.",
    where: "The client is in block {block}.",
    where_title: "The client is in block {block} «{title}».",
    nowhere: "The client is in no block yet: a conversation starts at a start condition.",
    visited: "Last turn ran: {blocks}.",
    you: "client",
    bot: "bot",
    pressed: "pressed [{text}]",
    event_sent: "event: {text}",
    entered: "entered block {block}",
    block_of: "block {block}",
    undelivered: "not delivered (a telephony-only client)",
    hint: "without buttons: {hint}",
    recorded: "recorded, not placed",
    placed: "placed through Mango Office",
    order: "order {order_id}",
    timer_fired: "a timer of block {block} fired",
    no_answer: "(no answer)",
    restarted: "A new conversation: new client, no variables, the clock back at its start.",
    reloaded: "The flow file changed and was reloaded.",
    reload_failed: "The flow file changed but has {errors} error(s): the last version that " +
      "loaded stays.",
    clock_note: "The clock now reads {now}.",
    outcome_note: "Calls end: {outcome}.",
    outcome_next_note: "The next call ends: {outcome}.",
    saved_note: "Saved the test {file}.",
    saved_ok: "Saved {file} — it passes when run.",
    saved_bad: "Saved {file}, but it fails when run:",
    download: "Download",
    outcome_now: "now: every call {every}{next}",
    outcome_queue: "; next: {next}",
    client_info: "Client {id}, phone {phone}, client_type {type}.",
    calls_recorded: "Calls are recorded, never placed.",
    calls_placed: "Calls are PLACED through Mango Office (--place-calls).",
    no_calls: "No calls yet.",
    no_errors: "No runtime errors.",
    no_timers: "No timer is waiting.",
    timers_not_run: "Arrows with a delay above 0 are not run yet: the clock sets the time " +
      "the bot sees on its next turn. Nothing is waiting.",
    timer_line: "{due}: {block} → {target} ({description})",
    scope_deal: "Deal",
    scope_client: "Client (client.)",
    scope_project: "Project (project.)",
    scope_constants: "Constants",
    scope_system: "System variables",
    none_set: "none set",
    show_block: "show the block",
    location_prompt: "Latitude and longitude, e.g. 55.7558 37.6173",
    clock_step_60: "+1 min",
    clock_step_600: "+10 min",
    clock_step_3600: "+1 hour",
    clock_step_86400: "+1 day",
    advance_by: "Advance the clock by {step}",
    request_failed: "The studio did not answer: {reason}",
    kind_block: "state", kind_nostate: "not a state", kind_quick: "quick answer",
    kind_close_deal: "close deal",
  },
  ru: {
    skip_to_chat: "Перейти к чату",
    language: "Язык",
    restart: "Начать заново",
    diagram: "Схема",
    chat: "Чат",
    inspector: "Клиент",
    problems: "Проверка",
    legend: "Толстые стрелки — стартовые условия, пунктир — быстрые ответы, синие — " +
      "колбэки, красные — петля без выхода, серый пунктир — недостижимый блок. " +
      "Блок клиента — оранжевый.",
    buttons_on_offer: "Кнопки бота",
    message: "Сообщение",
    send: "Отправить",
    callbacks_and_calls: "События, звонки и часы",
    event: "Событие (колбэк)",
    event_vars: "с переменными",
    send_event: "Отправить событие",
    call_ended: "Звонок завершился:",
    outcome: "Звонки завершаются",
    outcome_for: "Для каких звонков",
    every_call: "все звонки",
    next_call: "следующий звонок",
    apply: "Применить",
    clock: "Виртуальные часы",
    set_clock: "Установить",
    advance: "Перевести часы",
    enter_block: "Перевести клиента в блок",
    enter: "Перейти",
    test_name: "Имя теста",
    save_test: "Сохранить как тест",
    client: "Клиент",
    variables: "Переменные",
    calls: "Звонки",
    timers: "Ожидающие таймеры",
    errors: "Ошибки",
    loads: "схема загружена",
    does_not_load: "в схеме ошибки",
    stale: "В файле ошибки (см. «Проверка»): схема и бот — последняя версия, которая " +
      "загрузилась.",
    where: "Клиент в блоке {block}.",
    where_title: "Клиент в блоке {block} «{title}».",
    nowhere: "Клиент ещё ни в одном блоке: диалог начинается со стартового условия.",
    visited: "Последний ход прошёл блоки: {blocks}.",
    you: "клиент",
    bot: "бот",
    pressed: "нажата кнопка [{text}]",
    event_sent: "событие: {text}",
    entered: "переход в блок {block}",
    block_of: "блок {block}",
    undelivered: "не доставлено (клиент только телефонии)",
    hint: "без кнопок: {hint}",
    recorded: "записан, не совершён",
    placed: "совершён через Mango Office",
    order: "заказ {order_id}",
    timer_fired: "сработал таймер блока {block}",
    no_answer: "(бот не ответил)",
    restarted: "Новый диалог: новый клиент, без переменных, часы — на начальном времени.",
    reloaded: "Файл схемы изменился и загружен заново.",
    reload_failed: "Файл схемы изменился, но в нём ошибок: {errors}; работает последняя " +
      "загрузившаяся версия.",
    clock_note: "Часы показывают {now}.",
    outcome_note: "Звонки завершаются: {outcome}.",
    outcome_next_note: "Следующий звонок завершится: {outcome}.",
    saved_note: "Тест сохранён: {file}.",
    saved_ok: "Сохранён {file} — тест проходит.",
    saved_bad: "Сохранён {file}, но тест не проходит:",
    download: "Скачать",
    outcome_now: "сейчас: все звонки {every}{next}",
    outcome_queue: "; следующие: {next}",
    client_info: "Клиент {id}, телефон {phone}, client_type {type}.",
    calls_recorded: "Звонки записываются и не совершаются.",
    calls_placed: "Звонки СОВЕРШАЮТСЯ через Mango Office (--place-calls).",
    no_calls: "Звонков пока нет.",
    no_errors: "Ошибок выполнения нет.",
    no_timers: "Ни один таймер не ждёт.",
    timers_not_run: "Стрелки с задержкой больше 0 пока не выполняются: часы задают время, " +
      "которое бот увидит в следующем ходе. Ничего не ждёт.",
    timer_line: "{due}: {block} → {target} ({description})",
    scope_deal: "Сделка",
    scope_client: "Клиент (client.)",
    scope_project: "Проект (project.)",
    scope_constants: "Константы",
    scope_system: "Системные переменные",
    none_set: "не заданы",
    show_block: "показать блок",
    location_prompt: "Широта и долгота, например 55.7558 37.6173",
    clock_step_60: "+1 мин",
    clock_step_600: "+10 мин",
    clock_step_3600: "+1 час",
    clock_step_86400: "+1 день",
    advance_by: "Перевести часы на {step}",
    request_failed: "Студия не ответила: {reason}",
    kind_block: "состояние", kind_nostate: "не состояние", kind_quick: "быстрый ответ",
    kind_close_deal: "закрыть сделку",
  },
};

const NOTE_KEYS = {
  clock: "clock_note", outcome: "outcome_note", outcome_next: "outcome_next_note",
  saved: "saved_note",
};

const studio = {
  lang: "en",
  state: null,
  version: null,
  diagramText: null,
  nodes: new Map(), // block id -> SVG element of its node
  renders: 0,
};

function t(key, values) {
  const table = TEXTS[studio.lang] || TEXTS.en;
  let text = key in table ? table[key] : (TEXTS.en[key] || key);
  for (const [name, value] of Object.entries(values || {})) {
    text = text.split(`{${name}}`).join(String(value));
  }
  return text;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child);
  }
  return node;
}

// -- language -------------------------------------------------------------------------------

function chooseLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked && TEXTS[asked]) return asked;
  const kept = localStorage.getItem("botlang-studio-lang");
  if (kept && TEXTS[kept]) return kept;
  return (navigator.language || "en").toLowerCase().startsWith("ru") ? "ru" : "en";
}

function applyLanguage() {
  document.documentElement.lang = studio.lang;
  document.getElementById("lang").value = studio.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  document.title = `botlang studio — ${studio.state ? studio.state.flow.name : ""}`;
  if (studio.state) render(studio.state, { diagram: false });
}

// -- talking to the server --------------------------------------------------------------------

function showAlert(text) {
  const box = document.getElementById("alert");
  box.textContent = text || "";
  box.hidden = !text;
}

async function post(action, body) {
  let answer;
  try {
    const response = await fetch(`/api/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    answer = await response.json();
    if (!response.ok) {
      showAlert(answer.error || response.statusText);
      return null;
    }
  } catch (error) {
    showAlert(t("request_failed", { reason: error.message }));
    return null;
  }
  showAlert("");
  const state = answer.state || answer;
  await take(state);
  return answer;
}

async function refresh() {
  try {
    const response = await fetch("/api/state");
    await take(await response.json());
  } catch (error) {
    showAlert(t("request_failed", { reason: error.message }));
  }
}

async function poll() {
  try {
    const response = await fetch("/api/version");
    const { version } = await response.json();
    if (version !== studio.version) await refresh();
  } catch (error) {
    // the studio stopped: say so once, keep trying
    showAlert(t("request_failed", { reason: error.message }));
  }
}

async function take(state) {
  studio.state = state;
  studio.version = state.version;
  render(state, { diagram: true });
}

// -- the diagram --------------------------------------------------------------------------------

async function drawDiagram(diagram) {
  const box = document.getElementById("diagram");
  const text = diagram ? diagram.mermaid : null;
  if (text === studio.diagramText) return;
  studio.diagramText = text;
  studio.nodes = new Map();
  if (!text) {
    box.replaceChildren();
    return;
  }
  if (!window.mermaid) return;
  const id = `flowdiagram${++studio.renders}`;
  try {
    const { svg } = await window.mermaid.render(id, text);
    box.innerHTML = svg;
  } catch (error) {
    box.replaceChildren(el("p", { class: "entry-error", text: String(error.message || error) }));
    return;
  }
  const blockOf = new Map(Object.entries(diagram.keys).map(([block, key]) => [key, block]));
  const pattern = new RegExp(`^${id}-flowchart-(.+)-\\d+$`);
  for (const node of box.querySelectorAll("g.node")) {
    const found = pattern.exec(node.id);
    if (!found) continue;
    const block = blockOf.get(found[1]);
    if (block === undefined) continue;
    node.dataset.block = block;
    studio.nodes.set(block, node);
  }
  const svgElement = box.querySelector("svg");
  if (svgElement) {
    svgElement.setAttribute("aria-hidden", "true");
    svgElement.dataset.rendered = String(studio.renders);
  }
}

function markDiagram(state) {
  const current = state.client.block;
  const visited = new Set((state.last_turn && state.last_turn.blocks) || []);
  const lastTurn = state.last_turn ? state.last_turn.number : -1;
  const failing = new Set(
    state.errors.filter((e) => e.turn === lastTurn && e.block).map((e) => e.block),
  );
  for (const [block, node] of studio.nodes) {
    node.classList.toggle("is-current", block === current);
    node.classList.toggle("is-visited", visited.has(block) && block !== current);
    node.classList.toggle("has-error", failing.has(block));
    paint(node);
  }
  const shown = studio.nodes.get(current);
  if (shown) scrollToNode(shown, false);
  const box = document.getElementById("diagram");
  box.dataset.current = current || "";
}

// Mermaid writes each class's colours into the shapes' style attribute as !important,
// which no stylesheet can override: the marks are painted into that attribute, over the
// shape's own style kept from the first look.
const MARKS = [
  ["is-current", { fill: "#ffe8a8", stroke: "#d35400", "stroke-width": "4px" }],
  ["is-focus", { stroke: "#1f5fbf", "stroke-width": "4px" }],
  ["has-error", { stroke: "#b3261e", "stroke-width": "3px", "stroke-dasharray": "6 3" }],
  ["is-visited", { fill: "#fff6d9" }],
];
const ownStyle = new WeakMap();

function paint(node) {
  for (const shape of node.querySelectorAll("rect, polygon, path, circle")) {
    if (shape.closest(".label")) continue;
    if (!ownStyle.has(shape)) ownStyle.set(shape, shape.getAttribute("style") || "");
    shape.setAttribute("style", ownStyle.get(shape));
    for (const [mark, style] of MARKS.slice().reverse()) {
      if (!node.classList.contains(mark)) continue;
      for (const [name, value] of Object.entries(style)) {
        shape.style.setProperty(name, value, "important");
      }
    }
  }
}

// Scrolls the diagram's own box only (scrollIntoView would move the whole page too).
function scrollToNode(node, center) {
  const box = document.getElementById("diagram");
  const outer = box.getBoundingClientRect();
  const inner = node.getBoundingClientRect();
  const top = inner.top - outer.top + box.scrollTop;
  const left = inner.left - outer.left + box.scrollLeft;
  const visible = top >= box.scrollTop && top + inner.height <= box.scrollTop + box.clientHeight &&
    left >= box.scrollLeft && left + inner.width <= box.scrollLeft + box.clientWidth;
  if (visible && !center) return;
  box.scrollTop = top - (box.clientHeight - inner.height) / 2;
  box.scrollLeft = left - (box.clientWidth - inner.width) / 2;
}

function focusBlock(block) {
  for (const [id, node] of studio.nodes) {
    node.classList.toggle("is-focus", id === block);
    paint(node);
  }
  const node = studio.nodes.get(block);
  if (node) scrollToNode(node, true);
}

// -- rendering ------------------------------------------------------------------------------------

function render(state, { diagram }) {
  const flow = state.flow;
  document.getElementById("flow-name").textContent = flow.name;
  document.getElementById("flow-title").textContent = flow.title || "";
  document.title = `botlang studio — ${flow.name}`;
  const status = document.getElementById("flow-status");
  status.textContent = flow.loads ? t("loads") : t("does_not_load");
  status.className = `badge ${flow.loads ? "ok" : "bad"}`;
  const stale = document.getElementById("stale");
  stale.hidden = !flow.stale;
  stale.textContent = t("stale");
  renderWhere(state);
  renderProblems(flow.diagnostics);
  renderChat(state);
  renderOffered(state.offered);
  renderTools(state);
  renderInspector(state);
  const draw = diagram ? drawDiagram(flow.diagram) : Promise.resolve();
  draw.then(() => markDiagram(studio.state));
}

function blockName(state, block) {
  const info = state.flow.blocks[block];
  return info && info.title ? `${block} «${info.title}»` : block;
}

function renderWhere(state) {
  const block = state.client.block;
  const info = block ? state.flow.blocks[block] : null;
  let text = !block
    ? t("nowhere")
    : info && info.title
      ? t("where_title", { block, title: info.title })
      : t("where", { block });
  const visited = state.last_turn ? state.last_turn.blocks : [];
  if (visited.length) text += " " + t("visited", { blocks: visited.join(" → ") });
  document.getElementById("where").textContent = text;
}

function caret(item) {
  if (!item.source_line) return null;
  const pad = item.source_line.slice(0, Math.max(0, item.column - 1)).replace(/[^\t]/g, " ");
  return el("pre", { class: "caret", text: `${item.source_line}\n${pad}^` });
}

function located(item, severity) {
  const flow = studio.state ? studio.state.flow : null;
  const file = flow && item.file === flow.path ? flow.name : item.file;
  const head = `${file}:${item.line}:${item.column}: ${severity ? severity + ": " : ""}` +
    item.message;
  const show = item.block
    ? el("button", {
      type: "button", class: "link", text: t("show_block"),
      onclick: () => focusBlock(item.block),
    })
    : null;
  return [el("span", { text: head }), " ", show, caret(item)];
}

function renderProblems(diagnostics) {
  const pane = document.getElementById("problems-pane");
  const list = document.getElementById("problems");
  const ordered = [...diagnostics].sort(
    (a, b) => (a.severity === "error" ? 0 : 1) - (b.severity === "error" ? 0 : 1));
  list.replaceChildren(
    ...ordered.map((d) => el("li", { class: d.severity }, ...located(d, d.severity))),
  );
  pane.hidden = diagnostics.length === 0;
}

function chatEntry(entry, state) {
  switch (entry.kind) {
    case "client":
      return el("li", { class: "from-client" },
        el("span", { class: "meta", text: t("you") }),
        el("span", { class: "bubble", text: entry.text }));
    case "press":
      return el("li", { class: "from-client" },
        el("span", { class: "meta", text: t("you") }),
        el("span", { class: "bubble", text: t("pressed", { text: entry.text }) }));
    case "event":
      return el("li", { class: "note" }, t("event_sent", {
        text: entry.text + (Object.keys(entry.variables || {}).length
          ? ` (${Object.entries(entry.variables).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join("; ")})`
          : ""),
      }));
    case "enter":
      return el("li", { class: "note", text: t("entered", { block: entry.block }) });
    case "bot": {
      const chips = entry.buttons.length
        ? el("div", { class: "chips" }, ...entry.buttons.flat().map(
          (b) => el("span", { class: "chip", text: b.text })))
        : null;
      const meta = [t("bot"), t("block_of", { block: blockName(state, entry.block) })];
      if (!entry.delivered) meta.push(t("undelivered"));
      return el("li", { class: `from-bot${entry.delivered ? "" : " undelivered"}` },
        el("span", { class: "meta", text: meta.join(" · ") }),
        entry.text ? el("span", { class: "bubble", text: entry.text }) : null,
        chips,
        entry.hint ? el("span", { class: "meta", text: t("hint", { hint: entry.hint }) }) : null);
    }
    case "call":
      return el("li", {
        class: "note call",
        text: `☎ ${entry.line} (${entry.placed ? t("placed") : t("recorded")})`,
      });
    case "error":
      return el("li", { class: "entry-error" }, ...located(entry));
    case "order":
      return el("li", { class: "note", text: `${t("order", entry)}\n${entry.text}` });
    case "timer":
      return el("li", { class: "note", text: t("timer_fired", entry) });
    case "note": {
      const key = NOTE_KEYS[entry.key] || entry.key;
      return el("li", { class: "note", text: t(key, entry.values) });
    }
    default:
      return el("li", { class: "note", text: JSON.stringify(entry) });
  }
}

function renderChat(state) {
  const log = document.getElementById("log");
  log.replaceChildren(...state.chat.map((entry) => chatEntry(entry, state)));
  log.scrollTop = log.scrollHeight;
}

function renderOffered(offered) {
  const box = document.getElementById("offered-box");
  const holder = document.getElementById("offered");
  holder.replaceChildren(...offered.map((button) => {
    if (!button.sends) {
      return el("a", { href: button.url, target: "_blank", rel: "noopener", text: `${button.text} ↗` });
    }
    return el("button", {
      type: "button",
      "data-index": String(button.index),
      text: button.text,
      onclick: () => press(button),
    });
  }));
  box.hidden = offered.length === 0;
}

async function press(button) {
  const body = { index: button.index };
  if (button.action === "location") {
    const answer = window.prompt(t("location_prompt"), "55.7558 37.6173");
    if (answer === null) return;
    const [latitude, longitude] = answer.replace(",", " ").split(/\s+/).filter(Boolean);
    Object.assign(body, { latitude, longitude });
  }
  await post("press", body);
  document.getElementById("message").focus();
}

function renderTools(state) {
  const events = document.getElementById("call-events");
  events.replaceChildren(...state.call_events.map((name) => el("option", { value: name })));
  const quick = document.getElementById("event-quick");
  const label = quick.firstElementChild;
  quick.replaceChildren(label, ...state.call_events.map((name) => el("button", {
    type: "button", text: name, onclick: () => post("event", { text: name }),
  })));
  const outcome = document.getElementById("outcome");
  const chosen = outcome.value || state.outcome.every;
  outcome.replaceChildren(...state.outcomes.map((name) => el("option", { value: name, text: name })));
  outcome.value = state.outcomes.includes(chosen) ? chosen : state.outcome.every;
  const queued = state.outcome.next.length
    ? t("outcome_queue", { next: state.outcome.next.join(", ") }) : "";
  document.getElementById("outcome-now").textContent =
    t("outcome_now", { every: state.outcome.every, next: queued });
  const clock = document.getElementById("clock");
  if (document.activeElement !== clock) clock.value = state.clock.now.slice(0, 16);
  const steps = document.getElementById("clock-steps");
  const stepsLabel = steps.firstElementChild;
  steps.replaceChildren(stepsLabel, ...state.clock_steps.map((seconds) => el("button", {
    type: "button",
    text: t(`clock_step_${seconds}`),
    "aria-label": t("advance_by", { step: t(`clock_step_${seconds}`) }),
    onclick: () => post("clock", { advance: seconds }),
  })));
  const enter = document.getElementById("enter-block");
  const picked = enter.value;
  enter.replaceChildren(...Object.entries(state.flow.blocks).map(([block, info]) => el("option", {
    value: block, text: info.title ? `${block} — ${info.title}` : block,
  })));
  if (picked && picked in state.flow.blocks) enter.value = picked;
}

function table(caption, values) {
  const names = Object.keys(values).sort();
  const rows = names.length
    ? names.map((name) => el("tr", {}, el("th", { scope: "row", text: name }),
      el("td", { text: values[name] })))
    : [el("tr", {}, el("td", { colspan: "2", class: "muted", text: t("none_set") }))];
  return el("table", {}, el("caption", { text: caption }), el("tbody", {}, ...rows));
}

function renderInspector(state) {
  const client = state.client;
  document.getElementById("client-info").textContent = t("client_info", client);
  const vars = state.variables;
  const system = el("details", {}, el("summary", { text: t("scope_system") }),
    table(t("scope_system"), vars.system));
  document.getElementById("variables").replaceChildren(
    table(t("scope_deal"), vars.deal),
    table(t("scope_client"), vars.client),
    table(t("scope_project"), vars.project),
    table(t("scope_constants"), vars.constants),
    system,
  );
  document.getElementById("calls-mode").textContent =
    state.calls_placed ? t("calls_placed") : t("calls_recorded");
  const calls = document.getElementById("calls");
  calls.replaceChildren(...(state.calls.length
    ? state.calls.map((call) => el("li", { text: `${call.line} — ${call.message}` }))
    : []));
  document.getElementById("no-calls").hidden = state.calls.length > 0;
  document.getElementById("no-calls").textContent = t("no_calls");
  const timers = document.getElementById("timers");
  if (!state.timers.supported) {
    timers.replaceChildren(el("p", { class: "muted", text: t("timers_not_run") }));
  } else if (!state.timers.pending.length) {
    timers.replaceChildren(el("p", { class: "muted", text: t("no_timers") }));
  } else {
    timers.replaceChildren(el("ol", { class: "calls" },
      ...state.timers.pending.map((timer) => el("li", { text: t("timer_line", timer) }))));
  }
  const errors = document.getElementById("errors");
  errors.replaceChildren(...(state.errors.length
    ? state.errors.map((error) => el("li", {}, ...located(error)))
    : []));
  document.getElementById("no-errors").hidden = state.errors.length > 0;
  document.getElementById("no-errors").textContent = t("no_errors");
}

// -- the forms ------------------------------------------------------------------------------------

function wire() {
  document.getElementById("lang").addEventListener("change", (event) => {
    studio.lang = event.target.value;
    localStorage.setItem("botlang-studio-lang", studio.lang);
    applyLanguage();
  });
  document.getElementById("restart").addEventListener("click", () => post("restart"));
  document.getElementById("say-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("message");
    const text = input.value;
    if (!text.trim()) return;
    if (await post("say", { text })) input.value = "";
    input.focus();
  });
  document.getElementById("event-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = document.getElementById("event-text");
    const vars = document.getElementById("event-vars");
    if (await post("event", { text: text.value, variables: vars.value })) {
      text.value = "";
      vars.value = "";
    }
  });
  document.getElementById("outcome-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const scope = document.querySelector("input[name=outcome-scope]:checked").value;
    post("outcome", { outcome: document.getElementById("outcome").value, next: scope === "next" });
  });
  document.getElementById("clock-form").addEventListener("submit", (event) => {
    event.preventDefault();
    post("clock", { to: document.getElementById("clock").value });
  });
  document.getElementById("enter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    post("enter", { block: document.getElementById("enter-block").value });
  });
  document.getElementById("save-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = document.getElementById("test-name").value;
    const answer = await post("save", { name });
    const out = document.getElementById("saved");
    if (!answer) {
      out.replaceChildren();
      return;
    }
    const saved = answer.saved;
    const link = el("a", {
      href: URL.createObjectURL(new Blob([saved.text], { type: "text/plain" })),
      download: saved.file,
      text: t("download"),
    });
    out.className = `saved ${saved.passed ? "ok" : "bad"}`;
    out.replaceChildren(
      saved.passed ? t("saved_ok", saved) : `${t("saved_bad", saved)}\n${saved.failure}\n`,
      " ",
      link,
    );
  });
}

async function start() {
  studio.lang = chooseLanguage();
  if (window.mermaid) {
    window.mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      theme: "default",
      flowchart: { useMaxWidth: false, htmlLabels: true },
      fontFamily: '"DejaVu Sans", "Segoe UI", system-ui, sans-serif',
    });
  }
  wire();
  applyLanguage();
  await refresh();
  document.body.dataset.ready = "true";
  setInterval(poll, 1000);
}

document.addEventListener("DOMContentLoaded", start);
