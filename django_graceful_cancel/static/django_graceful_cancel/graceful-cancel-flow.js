/* django-graceful-cancel: <graceful-cancel-flow>, the cancellation flow as a web component.

   A dependency-free ES module (docs/web-component.md). Importing it defines the element once and
   adds nothing else to the page: no globals, no styles outside the element (it renders into its
   own open Shadow DOM, styled through the --gc-* custom properties of flow.css).

     <graceful-cancel-flow api="/api/cancel/" account-url="/account/">
       <a href="/account/cancel/">Cancel your subscription</a>   <!-- fallback content -->
     </graceful-cancel-flow>
     <script type="module" src="/static/django_graceful_cancel/graceful-cancel-flow.js"></script>

   Every step calls the app's REST API (docs/api.md), so the flow is recorded on the case exactly
   as the server-rendered pages record it. The element adds no rule of its own: whether there is an
   offer, and which, is the API's answer. */

const TAG = "graceful-cancel-flow";
const EVENT_PREFIX = "graceful-cancel:";
const CHANNELS = ["email", "sms", "whatsapp", "phone"];
const REASON_FIELDS = ["reason", "detail", "preferred_channel", "contact_consent", "contact_phone"];

/* --- the element's own words ------------------------------------------------------------------

   Everything the API says (reason labels and questions, the message, the offer, error details) is
   shown as the API says it, in the request's language. These are the element's own labels. Add a
   language, or change a label, before or after the module loads:

     import { translations } from "/static/django_graceful_cancel/graceful-cancel-flow.js";
     translations.it = { ...translations.en, cancel_now: "Annulla il mio abbonamento", ... };

   or for one element: element.messages = { keep: "Back to my plan" }. A missing key falls back
   to the base language ("pt" for "pt-BR"), then to English. */
export const translations = {
  en: {
    start_heading: "Cancel your subscription",
    cancel_now: "Cancel my subscription",
    cancel_now_hint: "Giving a reason is optional: this button cancels right away.",
    survey_heading: "Before you go",
    survey_hint: "Tell us why you are leaving, if you like: we read every answer.",
    survey_optional: "Tell us why you are leaving (optional)",
    cancel_with_answers: "Cancel my subscription and send my answers",
    reason_legend: "Why are you leaving?",
    optional: "(optional)",
    detail_label: "Anything you would like to add? (optional)",
    touch_legend: "Staying in touch",
    consent_label:
      "You may contact me about this cancellation (a thank-you, a short survey, an offer to come back).",
    channel_legend: "If we may contact you, how?",
    channel_email: "Email",
    channel_sms: "SMS",
    channel_whatsapp: "WhatsApp",
    channel_phone: "Phone call",
    phone_label: "Phone number (only for SMS, WhatsApp or a call)",
    continue: "Continue",
    keep: "Keep my subscription and go back",
    offer_heading: "Before you go",
    offer_kicker: "One offer, only if it helps",
    accept: "Accept the offer",
    decline: "No thanks, cancel my subscription",
    change_answer: "Change my answer",
    done_heading: "Your subscription is cancelled",
    done_lead: "We have received your cancellation.",
    receipt_heading: "Your receipt",
    reference: "Reference",
    takes_effect: "Takes effect",
    reactivate_heading: "Changed your mind?",
    reactivate_until: "You can reactivate your subscription with one click until {date}.",
    reactivate: "Reactivate my subscription",
    back: "Back to my account",
    saved_heading: "Thank you for staying",
    saved_body: "Your subscription continues; nothing else changes.",
    reactivated_heading: "Welcome back",
    reactivated_body: "Your subscription continues as before. Nothing else changes.",
    already_cancelled_heading: "Your subscription is already cancelled",
    already_cancelled_body: "Your subscription is already set to end. There is nothing more to do.",
    nothing_heading: "Nothing to cancel",
    loading: "Loading…",
    working: "Please wait…",
    fields_error: "Please check the answers marked below.",
    network_error: "We could not reach the server. Check your connection and try again.",
    server_error: "Something went wrong on our side. Please try again in a few minutes.",
    load_error: "The cancellation form could not be loaded. You can try again, or use this link:",
    retry: "Try again",
    date_with_zone: "{date} ({zone})",
  },
  es: {
    start_heading: "Cancela tu suscripción",
    cancel_now: "Cancelar mi suscripción",
    cancel_now_hint: "Dar un motivo es opcional: este botón cancela al instante.",
    survey_heading: "Antes de irte",
    survey_hint: "Cuéntanos por qué te vas, si quieres: leemos todas las respuestas.",
    survey_optional: "Cuéntanos por qué te vas (opcional)",
    cancel_with_answers: "Cancelar mi suscripción y enviar mis respuestas",
    reason_legend: "¿Por qué te vas?",
    optional: "(opcional)",
    detail_label: "¿Quieres añadir algo? (opcional)",
    touch_legend: "Seguir en contacto",
    consent_label:
      "Podéis contactarme sobre esta cancelación (un agradecimiento, una breve encuesta, una oferta para volver).",
    channel_legend: "Si podemos contactarte, ¿por qué medio?",
    channel_email: "Correo electrónico",
    channel_sms: "SMS",
    channel_whatsapp: "WhatsApp",
    channel_phone: "Llamada telefónica",
    phone_label: "Número de teléfono (solo para SMS, WhatsApp o una llamada)",
    continue: "Continuar",
    keep: "Mantener mi suscripción y volver",
    offer_heading: "Antes de irte",
    offer_kicker: "Una oferta, solo si te ayuda",
    accept: "Aceptar la oferta",
    decline: "No, gracias, cancelar mi suscripción",
    change_answer: "Cambiar mi respuesta",
    done_heading: "Tu suscripción está cancelada",
    done_lead: "Hemos recibido tu cancelación.",
    receipt_heading: "Tu comprobante",
    reference: "Referencia",
    takes_effect: "Surte efecto",
    reactivate_heading: "¿Has cambiado de opinión?",
    reactivate_until: "Puedes reactivar tu suscripción con un clic hasta el {date}.",
    reactivate: "Reactivar mi suscripción",
    back: "Volver a mi cuenta",
    saved_heading: "Gracias por quedarte",
    saved_body: "Tu suscripción continúa; no cambia nada más.",
    reactivated_heading: "Te damos la bienvenida de nuevo",
    reactivated_body: "Tu suscripción continúa como antes. No cambia nada más.",
    already_cancelled_heading: "Tu suscripción ya está cancelada",
    already_cancelled_body: "Tu suscripción ya tiene fecha de fin. No hay nada más que hacer.",
    nothing_heading: "Nada que cancelar",
    loading: "Cargando…",
    working: "Un momento…",
    fields_error: "Revisa las respuestas marcadas abajo.",
    network_error: "No hemos podido conectar con el servidor. Revisa tu conexión y vuelve a intentarlo.",
    server_error: "Algo ha fallado por nuestra parte. Vuelve a intentarlo en unos minutos.",
    load_error:
      "No se ha podido cargar el formulario de cancelación. Puedes volver a intentarlo o usar este enlace:",
    retry: "Volver a intentarlo",
    date_with_zone: "{date} ({zone})",
  },
  fr: {
    start_heading: "Résilier votre abonnement",
    cancel_now: "Résilier mon abonnement",
    cancel_now_hint: "Indiquer un motif est facultatif : ce bouton résilie immédiatement.",
    survey_heading: "Avant de partir",
    survey_hint: "Dites-nous pourquoi vous partez, si vous le souhaitez : nous lisons chaque réponse.",
    survey_optional: "Dites-nous pourquoi vous partez (facultatif)",
    cancel_with_answers: "Résilier mon abonnement et envoyer mes réponses",
    reason_legend: "Pourquoi nous quittez-vous ?",
    optional: "(facultatif)",
    detail_label: "Souhaitez-vous ajouter quelque chose ? (facultatif)",
    touch_legend: "Rester en contact",
    consent_label:
      "Vous pouvez me contacter au sujet de cette résiliation (un remerciement, un court questionnaire, une offre pour revenir).",
    channel_legend: "Si nous pouvons vous contacter, par quel moyen ?",
    channel_email: "E-mail",
    channel_sms: "SMS",
    channel_whatsapp: "WhatsApp",
    channel_phone: "Appel téléphonique",
    phone_label: "Numéro de téléphone (uniquement pour les SMS, WhatsApp ou un appel)",
    continue: "Continuer",
    keep: "Conserver mon abonnement et revenir",
    offer_heading: "Avant de partir",
    offer_kicker: "Une seule offre, seulement si elle vous aide",
    accept: "Accepter l’offre",
    decline: "Non merci, résilier mon abonnement",
    change_answer: "Modifier ma réponse",
    done_heading: "Votre abonnement est résilié",
    done_lead: "Nous avons bien reçu votre résiliation.",
    receipt_heading: "Votre justificatif",
    reference: "Référence",
    takes_effect: "Prise d’effet",
    reactivate_heading: "Vous avez changé d’avis ?",
    reactivate_until: "Vous pouvez réactiver votre abonnement en un clic jusqu’au {date}.",
    reactivate: "Réactiver mon abonnement",
    back: "Retour à mon compte",
    saved_heading: "Merci de rester avec nous",
    saved_body: "Votre abonnement continue ; rien d’autre ne change.",
    reactivated_heading: "Bon retour parmi nous",
    reactivated_body: "Votre abonnement continue comme avant. Rien d’autre ne change.",
    already_cancelled_heading: "Votre abonnement est déjà résilié",
    already_cancelled_body: "La fin de votre abonnement est déjà programmée. Vous n’avez plus rien à faire.",
    nothing_heading: "Rien à résilier",
    loading: "Chargement…",
    working: "Un instant…",
    fields_error: "Merci de vérifier les réponses signalées ci-dessous.",
    network_error: "Impossible de joindre le serveur. Vérifiez votre connexion et réessayez.",
    server_error: "Un problème est survenu de notre côté. Merci de réessayer dans quelques minutes.",
    load_error:
      "Le formulaire de résiliation n’a pas pu être chargé. Vous pouvez réessayer, ou utiliser ce lien :",
    retry: "Réessayer",
    date_with_zone: "{date} ({zone})",
  },
};

/* --- styles -----------------------------------------------------------------------------------

   The rules of flow.css, scoped by the Shadow DOM: the host page's CSS cannot reach inside and
   nothing here leaks out. Colours and radius come from the same custom properties (--gc-ink,
   --gc-accent, ...), which inherit into the shadow tree: set them on the element or any ancestor.
   Named parts (::part(button), ::part(offer), ...) allow finer changes. */
const CSS = `
:host {
  display: block;
  font-size: 16px;
  font-size: max(16px, 1rem);
  line-height: 1.5;
  color: var(--gc-ink, #1d2433);
  text-align: start;
  overflow-wrap: break-word;
  container-type: inline-size;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.gc { max-width: 44em; }
p { margin: 0 0 .75em; }
.gc-heading, h1, h2, h3, h4, h5, h6 { color: inherit; font-family: inherit; font-style: normal;
  font-weight: 700; letter-spacing: normal; text-transform: none; }
.gc-heading { font-size: 1.75em; line-height: 1.25; margin: 0 0 .6em; }
.gc-heading:focus { outline: none; }
.gc-heading:focus-visible { outline: 3px solid var(--gc-focus, #14213d); outline-offset: 2px; }
.gc-subheading { font-size: 1.25em; line-height: 1.3; margin: 0 0 .6em; }
.gc-hint, .gc-optional { color: var(--gc-muted, #5b6475); font-size: .875em; }
a, .gc-link { color: var(--gc-accent, #2f5bea); text-decoration: underline;
  text-decoration-thickness: 1px; text-underline-offset: .15em; }
a:hover, .gc-link:hover { text-decoration-thickness: 2px; }
.gc-link { background: none; border: 0; border-radius: 0; margin: 0; padding: 0; font: inherit;
  cursor: pointer; }
.gc-card { background: var(--gc-card, #ffffff); border: 1px solid var(--gc-line, #d9dee8);
  border-radius: var(--gc-radius, 10px); padding: 1.25em 1.5em; margin: 0 0 1.25em; }
.gc-card > :last-child { margin-bottom: 0; }
.gc-offer { border: 2px solid var(--gc-accent, #2f5bea); }
.gc-facts { display: grid; grid-template-columns: max-content 1fr; gap: .35em 1.25em; margin: 0 0 1em; }
.gc-facts dt { color: var(--gc-muted, #5b6475); margin: 0; }
.gc-facts dd { margin: 0; }
.gc-reference { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono",
  monospace; letter-spacing: .03em; }
fieldset { border: 0; padding: 0; margin: 0 0 1.25em; min-width: 0; }
legend { display: block; float: none; width: auto; max-width: 100%; border: 0; padding: 0;
  margin: 0 0 .5em; color: inherit; font-size: 1em; font-weight: 600; }
.gc-nested { margin: .75em 0; }
.gc-nested legend { font-weight: 400; }
label { color: inherit; font-size: 1em; font-weight: 400; }
.gc-choices { display: grid; gap: .35em; }
.gc-choices.gc-inline { display: flex; flex-wrap: wrap; gap: .35em 1.25em; }
.gc-choice { display: flex; align-items: flex-start; gap: .5em; }
.gc-choice input { font-size: inherit; width: 1.05em; height: 1.05em; margin: .22em 0 0; flex: none;
  accent-color: var(--gc-accent, #2f5bea); }
.gc-field { margin: 0 0 1em; }
.gc-field label { display: block; font-weight: 600; margin: 0 0 .3em; }
.gc-field .gc-hint { margin: -.1em 0 .35em; }
input[type="text"], input[type="tel"], textarea { display: block; width: 100%; max-width: 100%;
  margin: 0; font: inherit; line-height: 1.5; color: inherit; padding: .55em .7em;
  border: 1px solid var(--gc-field-line, #7d879a); border-radius: 8px;
  background: var(--gc-field, #ffffff); }
[aria-invalid="true"] { border-color: var(--gc-danger, #b42318); }
.gc-actions { display: flex; flex-wrap: wrap; align-items: center; gap: .75em; margin: 1em 0 .5em; }
/* Accept and decline: same width, same height, same colours, side by side or stacked. */
.gc-equal-choices { display: grid; grid-template-columns: repeat(auto-fit, minmax(14em, 1fr));
  grid-auto-rows: 1fr; gap: .75em; margin: 1em 0 .5em; }
.gc-button { display: inline-block; margin: 0; min-height: 2.75em; font: inherit; font-weight: 600;
  line-height: 1.3; text-align: center; text-decoration: none; white-space: normal;
  padding: .7em 1.2em; border-radius: 8px; border: 2px solid var(--gc-accent, #2f5bea);
  background: var(--gc-card, #ffffff); color: var(--gc-accent, #2f5bea); cursor: pointer;
  -webkit-appearance: none; appearance: none; }
.gc-button-primary, .gc-button-choice { background: var(--gc-accent, #2f5bea);
  color: var(--gc-accent-ink, #ffffff); }
.gc-button-cancel { border-color: var(--gc-danger, #b42318); background: var(--gc-danger, #b42318);
  color: var(--gc-danger-ink, #ffffff); }
.gc-button:hover { filter: brightness(.93); }
.gc-button[aria-disabled="true"] { cursor: progress; opacity: .75; }
details > summary { display: list-item; cursor: pointer; font-weight: 600; }
details[open] > summary { margin-bottom: 1em; }
:is(a, button, input, textarea, summary, [tabindex]):focus-visible { outline: 3px solid var(--gc-focus, #14213d);
  outline-offset: 2px; box-shadow: 0 0 0 2px var(--gc-focus-halo, #ffffff); }
.gc-kicker { text-transform: uppercase; letter-spacing: .06em; font-size: .8125em; font-weight: 700;
  color: var(--gc-muted, #5b6475); margin: 0 0 .25em; }
.gc-message { margin: 0 0 1.25em; }
.gc-message p { margin: 0 0 .6em; }
.gc-lead { font-size: 1.125em; margin-bottom: 1em; }
.gc-error { color: var(--gc-danger, #b42318); font-weight: 600; margin: .25em 0; }
.gc-alert { color: var(--gc-danger, #b42318); font-weight: 600; border: 1px solid var(--gc-danger, #b42318);
  background: var(--gc-alert, #fef3f2); border-radius: 8px; padding: .75em 1em; margin: 0 0 1em; }
.gc-alert:empty { border: 0; padding: 0; margin: 0; }
.gc-status { color: var(--gc-muted, #5b6475); font-size: .875em; margin: 0; min-height: 0; }
.gc-status:empty { display: block; height: 0; overflow: hidden; }
.gc-back { margin: 1.5em 0 0; }
.gc-fallback { margin: 0 0 1em; }
@container (max-width: 36em) {
  .gc-heading { font-size: 1.45em; }
  .gc-card { padding: 1em; }
  .gc-facts { grid-template-columns: 1fr; gap: 0; }
  .gc-facts dd { margin-bottom: .5em; }
  .gc-actions .gc-button { width: 100%; }
}
`;

let sharedSheet = null;

function styleFor(root) {
  // One constructed stylesheet shared by every instance where the browser can adopt it.
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function") {
    try {
      if (sharedSheet === null) {
        sharedSheet = new CSSStyleSheet();
        sharedSheet.replaceSync(CSS);
      }
      root.adoptedStyleSheets = [sharedSheet];
      return null;
    } catch {
      // fall through to a <style> element
    }
  }
  const style = document.createElement("style");
  style.textContent = CSS;
  return style;
}

/* --- small helpers ---------------------------------------------------------------------------- */

/** An element: h("p", {class: "gc-hint"}, "text", child, ...). Text is always text, never HTML. */
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "value") {
      element.value = value;
    } else if (name === "checked") {
      element.checked = Boolean(value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

const KEPT_TAGS = new Set(["p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "a", "span"]);
const DROPPED_TAGS = new Set([
  "script", "style", "template", "iframe", "object", "embed", "link", "meta", "svg", "math",
  "form", "input", "button", "textarea", "select", "img", "video", "audio",
]);

function copyClean(source, target) {
  for (const node of source.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      target.append(node.data);
    } else if (node.nodeType === Node.ELEMENT_NODE) {
      const tag = node.localName;
      if (DROPPED_TAGS.has(tag)) continue;
      if (!KEPT_TAGS.has(tag)) {
        copyClean(node, target); // unknown wrapper: keep its text
        continue;
      }
      const element = document.createElement(tag);
      if (tag === "a") {
        const href = node.getAttribute("href") || "";
        if (/^(https?:|mailto:|tel:|\/|#)/i.test(href.trim())) element.setAttribute("href", href);
      }
      copyClean(node, element);
      target.append(element);
    }
  }
}

/** The API's message (HTML from the site's own templates) as inert, cleaned nodes. */
function messageFragment(html) {
  const template = document.createElement("template");
  template.innerHTML = html; // a template's content is inert: nothing runs, nothing loads
  const fragment = document.createDocumentFragment();
  copyClean(template.content, fragment);
  return fragment;
}

function cookie(name) {
  for (const part of document.cookie ? document.cookie.split(";") : []) {
    const index = part.indexOf("=");
    if (part.slice(0, index).trim() === name) return decodeURIComponent(part.slice(index + 1).trim());
  }
  return "";
}

function newKey() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return "";
  }
}

/** An API call that did not succeed: ``status`` 0 is a network failure. */
export class FlowError extends Error {
  constructor({ status = 0, code = "", message = "", fields = null } = {}) {
    super(message);
    this.name = "FlowError";
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

let instances = 0;

/* --- the element ------------------------------------------------------------------------------ */

export class GracefulCancelFlow extends HTMLElement {
  static get observedAttributes() {
    return ["api", "language", "account-url", "reference", "time-zone", "heading-level", "csrf-cookie"];
  }

  /** The built-in dictionaries (the same object as the module's ``translations`` export). */
  static get translations() {
    return translations;
  }

  constructor() {
    super();
    this._id = `gc${++instances}`;
    // Properties a framework set before the module loaded (on the not-yet-upgraded element) are
    // kept: the constructor runs on that same object.
    /** Optional: a function returning the Authorization header value (or a promise of it),
     * e.g. () => `Token ${key}` or async () => `Bearer ${await getToken()}`. */
    this.authorization = this.authorization ?? null;
    /** Optional: labels overriding the dictionary for this element only. */
    this.messages = this.messages ?? {};
    this._reasons = [];
    this._case = null;
    this._answers = {
      reason: "",
      detail: "",
      preferred_channel: "email",
      contact_consent: false,
      contact_phone: "",
    };
    this._fieldErrors = {};
    this._step = "loading";
    this._problem = null;
    this._busy = false;
    this._keys = new Map();
    this._loaded = false;
    this._loading = false;
    this._generation = 0;
    this._focusWhenReady = false;

    const root = this.attachShadow({ mode: "open" });
    const style = styleFor(root);
    this._alert = h("div", { class: "gc-alert", role: "alert", part: "error" });
    this._status = h("p", { class: "gc-status", role: "status" });
    this._content = h("div", { class: "gc-step" });
    // Light-DOM children (the fallback link) show only when the flow cannot load.
    this._fallback = h("div", { class: "gc-fallback", hidden: true }, h("slot"));
    root.append(
      ...(style ? [style] : []),
      h("div", { class: "gc", part: "container" }, this._alert, this._status, this._content, this._fallback),
    );
  }

  connectedCallback() {
    // Moved in the page (a framework re-parenting it): keep where the customer is.
    if (!this._loaded && !this._loading) this._load();
  }

  attributeChangedCallback(name, oldValue, newValue) {
    // Before the first load (attributes set while the page is built): nothing to redo.
    if (oldValue === newValue || (!this._loaded && !this._loading)) return;
    if (name === "api" || name === "language" || name === "reference") {
      if (name === "reference") this._case = null;
      this._load();
    } else {
      this._render({ focus: false });
    }
  }

  /* --- attributes --- */

  get api() {
    const base = this.getAttribute("api") || "/api/cancel/";
    return base.endsWith("/") ? base : `${base}/`;
  }

  get language() {
    const own = this.getAttribute("language");
    if (own) return own;
    const scoped = this.closest("[lang]");
    return (scoped && scoped.getAttribute("lang")) || navigator.language || "en";
  }

  get timeZone() {
    return this.getAttribute("time-zone") || browserTimeZone();
  }

  get headingLevel() {
    const level = Number.parseInt(this.getAttribute("heading-level") || "2", 10);
    return Number.isFinite(level) ? Math.min(Math.max(level, 1), 5) : 2;
  }

  /** The case the element shows: its reference, status, offer... (null before it starts one). */
  get case() {
    return this._case;
  }

  /** Move the keyboard focus to the heading of the step shown (e.g. after revealing the element). */
  focusHeading() {
    const heading = this.shadowRoot.querySelector(".gc-heading");
    // Still loading: focus the first step's heading when it is there.
    this._focusWhenReady = !heading;
    if (heading) heading.focus();
  }

  /* --- words --- */

  t(key, values = {}) {
    const code = this.language.toLowerCase();
    const base = code.split("-")[0];
    const candidates = [this.messages || {}, translations[code], translations[base], translations.en];
    let text = key;
    for (const dictionary of candidates) {
      if (dictionary && typeof dictionary[key] === "string") {
        text = dictionary[key];
        break;
      }
    }
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
  }

  _formatDate(value, { time = true } = {}) {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) return String(value);
    const options = time ? { dateStyle: "long", timeStyle: "short" } : { dateStyle: "long" };
    let zone = this.timeZone;
    let text;
    try {
      text = new Intl.DateTimeFormat(this.language, { ...options, timeZone: zone || undefined }).format(date);
    } catch {
      zone = browserTimeZone();
      text = new Intl.DateTimeFormat(undefined, options).format(date);
    }
    return time && zone ? this.t("date_with_zone", { date: text, zone }) : text;
  }

  /* --- the API --- */

  async _call(method, path, body, action = "") {
    const url = new URL(path, new URL(this.api, document.baseURI));
    const headers = { Accept: "application/json", "Accept-Language": this.language };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      const token = cookie(this.getAttribute("csrf-cookie") || "csrftoken");
      if (token) headers["X-CSRFToken"] = token;
      // One key per action: a retry after a network failure sends the same key, so the API
      // answers it at most once (docs/api.md, "Idempotency-Key").
      if (!this._keys.has(action)) this._keys.set(action, newKey());
      headers["Idempotency-Key"] = this._keys.get(action);
    }
    if (typeof this.authorization === "function") {
      const value = await this.authorization();
      if (value) headers.Authorization = value;
    }
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new FlowError({ message: this.t("network_error") });
    }
    if (method !== "GET") {
      // Any answer of the server settles the key, except "still running": retry it as it is.
      let keep = false;
      if (response.status === 409) {
        const peek = await response.clone().json().catch(() => null);
        keep = Boolean(peek && peek.code === "idempotency_request_in_progress");
      }
      if (!keep) this._keys.delete(action);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (response.ok) return { status: response.status, data };
    if (data && typeof data === "object" && !Array.isArray(data)) {
      if (typeof data.code === "string" && typeof data.detail === "string") {
        throw new FlowError({ status: response.status, code: data.code, message: data.detail });
      }
      if (response.status === 400) {
        const fields = {};
        for (const [name, messages] of Object.entries(data)) {
          fields[name] = (Array.isArray(messages) ? messages : [messages]).map(String);
        }
        throw new FlowError({ status: 400, code: "invalid", message: this.t("fields_error"), fields });
      }
    }
    throw new FlowError({ status: response.status, code: "error", message: this.t("server_error") });
  }

  _emit(name, detail = {}) {
    const kase = this._case;
    this.dispatchEvent(
      new CustomEvent(EVENT_PREFIX + name, {
        bubbles: true,
        composed: true,
        detail: {
          reference: kase ? kase.reference : null,
          status: kase ? kase.status : null,
          case: kase,
          ...detail,
        },
      }),
    );
  }

  /* --- loading --- */

  async _load() {
    // A newer load (an attribute changed meanwhile) wins; an older answer is dropped.
    const generation = ++this._generation;
    this._loading = true;
    this._step = "loading";
    this._setError("");
    this._render({ focus: false });
    this._setStatus(this.t("loading"));
    let reasons;
    let rules;
    let kase = null;
    let failure = null;
    try {
      const reference = this.getAttribute("reference");
      [reasons, rules, kase] = await Promise.all([
        this._call("GET", "reasons/"),
        this._call("GET", "rules/"),
        reference ? this._call("GET", `cases/${encodeURIComponent(reference)}/`) : Promise.resolve(null),
      ]);
    } catch (error) {
      failure = error;
    }
    if (generation !== this._generation) return;
    this._loading = false;
    this._setStatus("");
    if (failure) {
      this._step = "load-error";
      this._render({ focus: this._focusWhenReady });
      this._fail(failure);
      return;
    }
    this._reasons = Array.isArray(reasons.data) ? reasons.data : [];
    this._rules = rules.data && typeof rules.data === "object" ? rules.data : null;
    if (kase) this._case = kase.data;
    this._step = this._stepFor(this._case);
    this._loaded = true;
    this._render({ focus: this._focusWhenReady });
  }

  _stepFor(kase) {
    if (!kase) return "start";
    switch (kase.status) {
      case "open":
        return kase.reason !== null || kase.offer ? "offer" : "start";
      case "saved":
        return "saved";
      case "cancelled":
        return "done";
      case "reactivated":
        return "reactivated";
      default:
        return "start"; // abandoned: start again
    }
  }

  /* --- status and errors --- */

  _setStatus(text) {
    this._status.textContent = text;
  }

  _setError(text) {
    this._alert.textContent = text;
  }

  _fail(error, { show = true } = {}) {
    const message = (error instanceof FlowError && error.message) || this.t("server_error");
    if (show) this._setError(message);
    this._emit("error", {
      httpStatus: error instanceof FlowError ? error.status : 0,
      code: error instanceof FlowError ? error.code : "error",
      message,
      fields: error instanceof FlowError ? error.fields : null,
    });
  }

  /** Run one step: nothing while another runs, errors shown, the case's current state on a 409. */
  async _run(work) {
    if (this._busy) return;
    this._busy = true;
    this._setError("");
    this._setStatus(this.t("working"));
    this._markBusy(true);
    try {
      await work();
      this._setStatus("");
    } catch (error) {
      this._setStatus("");
      await this._recover(error);
    } finally {
      this._busy = false;
      this._markBusy(false);
    }
  }

  async _recover(error) {
    if (error instanceof FlowError && error.status === 400 && error.fields) {
      this._fieldErrors = error.fields;
      this._step = "start";
      this._render({ focus: false });
      this._fail(error);
      const invalid = this.shadowRoot.querySelector('[aria-invalid="true"]');
      if (invalid) invalid.focus();
      return;
    }
    const problems = {
      already_cancelled: () => [this.t("already_cancelled_heading"), this.t("already_cancelled_body")],
      no_active_subscription: () => [this.t("nothing_heading"), error.message],
    };
    if (error instanceof FlowError && error.status === 409 && Object.hasOwn(problems, error.code)) {
      // Nothing (more) to cancel: a step of its own says so.
      const [heading, body] = problems[error.code]();
      this._problem = { heading, body };
      this._step = "problem";
      this._render({ focus: true });
      this._fail(error, { show: false });
      return;
    }
    if (error instanceof FlowError && error.status === 409 && this._case) {
      // The case moved on elsewhere (another tab, staff, the provider): say so, then show it.
      this._fail(error);
      try {
        const fresh = await this._call("GET", `cases/${encodeURIComponent(this._case.reference)}/`);
        this._case = fresh.data;
        this._step = this._stepFor(this._case);
        this._render({ focus: true });
      } catch {
        // keep the step as it is; the error is on screen
      }
      return;
    }
    this._fail(error);
  }

  _markBusy(busy) {
    this._content.setAttribute("aria-busy", busy ? "true" : "false");
    for (const button of this.shadowRoot.querySelectorAll("button")) {
      if (busy) button.setAttribute("aria-disabled", "true");
      else button.removeAttribute("aria-disabled");
    }
  }

  /* --- the steps --- */

  async _start() {
    const body = {};
    if (this.timeZone) body.time_zone = this.timeZone;
    let result;
    try {
      result = await this._call("POST", "cases/", body, "start");
    } catch (error) {
      // A browser's time zone the server does not know never stands in the way.
      if (!(error instanceof FlowError && error.fields && error.fields.time_zone)) throw error;
      result = await this._call("POST", "cases/", {}, "start");
    }
    this._case = result.data;
    if (result.status === 201) this._emit("started", { created: true });
    return this._case;
  }

  _readAnswers(form) {
    const data = new FormData(form);
    this._answers = {
      reason: String(data.get("reason") || ""),
      detail: String(data.get("detail") || ""),
      preferred_channel: String(data.get("preferred_channel") || "email"),
      contact_consent: data.get("contact_consent") === "on",
      contact_phone: String(data.get("contact_phone") || ""),
    };
  }

  /** POST the answers of the reason step (the same entry the pages call); the case comes back. */
  async _sendAnswers(kase) {
    const answers = this._answers;
    const result = await this._call(
      "POST",
      `cases/${encodeURIComponent(kase.reference)}/reason/`,
      {
        reason: answers.reason || null,
        detail: answers.detail,
        preferred_channel: answers.preferred_channel,
        contact_consent: answers.contact_consent,
        contact_phone: answers.contact_phone,
      },
      "reason",
    );
    this._case = result.data;
    this._fieldErrors = {};
    this._emit("reason-recorded");
  }

  _continue(form) {
    this._readAnswers(form);
    return this._run(async () => {
      const kase = await this._start();
      const offeredBefore = Boolean(kase.offer); // one offer per case, ever: announce it once
      await this._sendAnswers(kase);
      if (!offeredBefore && this._pendingOffer()) this._emit("offer-presented", { offer: this._case.offer });
      this._step = "offer";
      this._render({ focus: true });
    });
  }

  /** The compliance rules the flow follows: the case's own once it exists (it keeps the rules it
      started under), else those a new case gets (GET rules/), as the server's pages do. */
  get rules() {
    const rules = (this._case && this._case.rules) || this._rules || {};
    return { offers: true, survey_first: true, heading: "", ...rules };
  }

  /** Where the survey is only an extra (eu, fr): one click cancels and sends the answers. */
  _cancelWithAnswers(form) {
    this._readAnswers(form);
    return this._run(async () => {
      const kase = await this._start();
      await this._sendAnswers(kase);
      await this._confirm(this._case);
    });
  }

  _cancelNow() {
    return this._run(async () => {
      const kase = await this._start();
      await this._confirm(kase);
    });
  }

  async _confirm(kase) {
    const offered = kase.offer && kase.offer.outcome === "presented";
    const path = `cases/${encodeURIComponent(kase.reference)}/confirm/`;
    const result = await this._call("POST", path, {}, "confirm");
    this._case = result.data;
    // Cancelling next to an offer declines it (the API records both, as the pages do).
    if (offered) this._emit("offer-declined", { offer: this._case.offer });
    this._emit("cancelled");
    this._step = "done";
    this._render({ focus: true });
  }

  _accept() {
    return this._run(async () => {
      const result = await this._call(
        "POST",
        `cases/${encodeURIComponent(this._case.reference)}/accept-offer/`,
        {},
        "accept",
      );
      this._case = result.data;
      this._emit("offer-accepted", { offer: this._case.offer });
      this._step = "saved";
      this._render({ focus: true });
    });
  }

  _decline() {
    return this._run(() => this._confirm(this._case));
  }

  _reactivate() {
    return this._run(async () => {
      const result = await this._call(
        "POST",
        `cases/${encodeURIComponent(this._case.reference)}/reactivate/`,
        {},
        "reactivate",
      );
      this._case = result.data;
      this._emit("reactivated");
      this._step = "reactivated";
      this._render({ focus: true });
    });
  }

  _pendingOffer() {
    const offer = this._case && this._case.offer;
    return offer && offer.outcome === "presented" ? offer : null;
  }

  /* --- rendering --- */

  _heading(text, sub = false) {
    const level = this.headingLevel + (sub ? 1 : 0);
    const attributes = sub
      ? { class: "gc-subheading", id: `${this._id}-${sub}` }
      : { class: "gc-heading", tabindex: "-1", part: "heading" };
    return h(`h${level}`, attributes, text);
  }

  _button(id, text, kind, onclick, type = "button") {
    return h(
      "button",
      { type, id, class: `gc-button gc-button-${kind}`, part: `button button-${kind}`, onclick },
      text,
    );
  }

  /** The API's sentence saying who applies the offer and by when, when staff do (else null). */
  _promise(offer) {
    const promise = offer.fulfilment;
    if (!promise || !promise.message) return null;
    return h("p", { class: "gc-hint gc-fulfilment", part: "fulfilment" }, promise.message);
  }

  _backLink(key) {
    const href = this.getAttribute("account-url");
    return href ? h("p", { class: "gc-back" }, h("a", { href }, this.t(key))) : null;
  }

  _render({ focus }) {
    const step = this._step;
    const nodes = (
      {
        loading: () => [],
        "load-error": () => this._renderLoadError(),
        start: () => this._renderStart(),
        offer: () => this._renderOffer(),
        done: () => this._renderDone(),
        saved: () => this._renderSaved(),
        reactivated: () => this._renderReactivated(),
        problem: () => this._renderProblem(),
      }[step] || (() => [])
    )();
    this._fallback.hidden = step !== "load-error";
    this._content.replaceChildren(...nodes);
    this.setAttribute("step", step);
    if (focus) this.focusHeading();
  }

  _renderLoadError() {
    return [
      this._heading(this.t("start_heading")),
      h("p", {}, this.t("load_error")),
      h(
        "div",
        { class: "gc-actions" },
        this._button("gc-retry", this.t("retry"), "primary", () => this._load()),
      ),
    ];
  }

  _fieldError(name) {
    const messages = this._fieldErrors[name];
    if (!messages || !messages.length) return null;
    return h("p", { class: "gc-error", id: `${this._id}-${name}-error` }, messages.join(" "));
  }

  _invalid(name) {
    return this._fieldErrors[name] && this._fieldErrors[name].length
      ? { "aria-invalid": "true", "aria-describedby": `${this._id}-${name}-error` }
      : {};
  }

  _renderStart() {
    const id = this._id;
    const answers = this._answers;
    const reasonChoices = this._reasons.map((reason, index) =>
      h(
        "div",
        { class: "gc-choice" },
        h("input", {
          type: "radio",
          name: "reason",
          id: `${id}-reason-${index}`,
          value: reason.slug,
          checked: answers.reason === reason.slug,
          ...this._invalid("reason"),
          onchange: () => this._showQuestion(reason),
        }),
        h("label", { for: `${id}-reason-${index}` }, reason.label),
      ),
    );
    const chosen = this._reasons.find((reason) => reason.slug === answers.reason);
    const channelChoices = CHANNELS.map((channel) =>
      h(
        "div",
        { class: "gc-choice" },
        h("input", {
          type: "radio",
          name: "preferred_channel",
          id: `${id}-channel-${channel}`,
          value: channel,
          checked: answers.preferred_channel === channel,
          ...this._invalid("preferred_channel"),
        }),
        h("label", { for: `${id}-channel-${channel}` }, this.t(`channel_${channel}`)),
      ),
    );
    const otherErrors = Object.keys(this._fieldErrors)
      .filter((name) => !REASON_FIELDS.includes(name))
      .map((name) => h("p", { class: "gc-error" }, this._fieldErrors[name].join(" ")));
    const rules = this.rules;
    // Where the law words the button ("jetzt kündigen", BGB § 312k), every button that sends the
    // cancellation says exactly that, as the server's page does (rules.confirm_label, translated).
    const statutory = rules.statutory_labels && rules.confirm_label ? rules.confirm_label : "";
    const fields = [
      ...otherErrors,
      h(
        "fieldset",
        { ...(this._fieldErrors.reason ? { "aria-describedby": `${id}-reason-error` } : {}) },
        h("legend", {}, this.t("reason_legend"), " ", h("span", { class: "gc-optional" }, this.t("optional"))),
        this._fieldError("reason"),
        h("div", { class: "gc-choices" }, reasonChoices),
      ),
      h(
        "div",
        { class: "gc-field" },
        h("label", { for: `${id}-detail` }, this.t("detail_label")),
        h("p", { class: "gc-hint", id: `${id}-question`, hidden: !(chosen && chosen.follow_up_question) },
          chosen ? chosen.follow_up_question : ""),
        h("textarea", {
          id: `${id}-detail`,
          name: "detail",
          rows: "3",
          value: answers.detail,
          "aria-describedby": chosen && chosen.follow_up_question ? `${id}-question` : null,
          ...this._invalid("detail"),
        }),
        this._fieldError("detail"),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, this.t("touch_legend"), " ", h("span", { class: "gc-optional" }, this.t("optional"))),
        h(
          "div",
          { class: "gc-choice" },
          h("input", {
            type: "checkbox",
            name: "contact_consent",
            id: `${id}-consent`,
            checked: answers.contact_consent,
            ...this._invalid("contact_consent"),
          }),
          h("label", { for: `${id}-consent` }, this.t("consent_label")),
        ),
        this._fieldError("contact_consent"),
        h(
          "fieldset",
          { class: "gc-nested" },
          h("legend", {}, this.t("channel_legend")),
          h("div", { class: "gc-choices gc-inline" }, channelChoices),
          this._fieldError("preferred_channel"),
        ),
        h(
          "div",
          { class: "gc-field" },
          h("label", { for: `${id}-phone` }, this.t("phone_label")),
          h("input", {
            type: "tel",
            id: `${id}-phone`,
            name: "contact_phone",
            autocomplete: "tel",
            inputmode: "tel",
            value: answers.contact_phone,
            ...this._invalid("contact_phone"),
          }),
          this._fieldError("contact_phone"),
        ),
      ),
    ];
    const submit = (work) => (event) => {
      event.preventDefault();
      work(event.currentTarget);
    };
    // The layout of the start page for the case's compliance profile (compliance.py): the
    // survey next to the way out (default), or only as an optional extra sent with the
    // cancellation (eu, fr), folded away unless an answer needs fixing.
    const form = rules.survey_first
      ? h(
          "form",
          {
            class: "gc-card gc-survey",
            "aria-labelledby": `${id}-survey`,
            novalidate: true,
            onsubmit: submit((form) => this._continue(form)),
          },
          this._heading(this.t("survey_heading"), "survey"),
          h("p", { class: "gc-hint" }, this.t("survey_hint")),
          fields,
          h(
            "div",
            { class: "gc-actions" },
            this._button("gc-continue", this.t("continue"), "primary", null, "submit"),
          ),
        )
      : h(
          "details",
          { class: "gc-card gc-survey", open: Object.keys(this._fieldErrors).length > 0 },
          h("summary", {}, this.t("survey_optional")),
          h(
            "form",
            { novalidate: true, onsubmit: submit((form) => this._cancelWithAnswers(form)) },
            fields,
            h(
              "div",
              { class: "gc-actions" },
              this._button("gc-cancel-with-answers", statutory || this.t("cancel_with_answers"), "cancel", null, "submit"),
            ),
          ),
        );
    return [
      this._heading(rules.heading || this.t("start_heading")),
      // The way out first, one click, whatever the survey below says.
      h(
        "div",
        { class: "gc-card gc-summary" },
        h(
          "div",
          { class: "gc-actions" },
          this._button("gc-cancel-now", statutory || this.t("cancel_now"), "cancel", () => this._cancelNow()),
        ),
        h("p", { class: "gc-hint" }, this.t("cancel_now_hint")),
      ),
      form,
      this._backLink("keep"),
    ];
  }

  _showQuestion(reason) {
    const hint = this.shadowRoot.getElementById(`${this._id}-question`);
    const detail = this.shadowRoot.getElementById(`${this._id}-detail`);
    if (!hint || !detail) return;
    hint.textContent = reason.follow_up_question || "";
    hint.hidden = !reason.follow_up_question;
    if (reason.follow_up_question) detail.setAttribute("aria-describedby", hint.id);
    else detail.removeAttribute("aria-describedby");
  }

  _renderOffer() {
    const kase = this._case;
    const offer = this._pendingOffer();
    const nodes = [this._heading(this.t("offer_heading"))];
    if (kase.message) nodes.push(h("div", { class: "gc-message", part: "message" }, messageFragment(kase.message)));
    if (offer) {
      nodes.push(
        h(
          "section",
          { class: "gc-card gc-offer", part: "offer", "aria-labelledby": `${this._id}-offer` },
          h("p", { class: "gc-kicker" }, this.t("offer_kicker")),
          this._heading(offer.title, "offer"),
          offer.description ? h("p", {}, offer.description) : null,
          // Who applies it when a person does, as the offer page says (offer.fulfilment).
          this._promise(offer),
          h(
            "div",
            { class: "gc-equal-choices" },
            this._button("gc-accept", this.t("accept"), "choice", () => this._accept()),
            this._button("gc-decline", this.t("decline"), "choice", () => this._decline()),
          ),
        ),
      );
    } else {
      nodes.push(
        h(
          "div",
          { class: "gc-actions" },
          this._button("gc-confirm", this.t("cancel_now"), "cancel", () => this._decline()),
        ),
      );
    }
    const href = this.getAttribute("account-url");
    nodes.push(
      h(
        "p",
        { class: "gc-back" },
        h(
          "button",
          { type: "button", class: "gc-link", id: "gc-change", onclick: () => this._changeAnswer() },
          this.t("change_answer"),
        ),
        href ? [" · ", h("a", { href }, this.t("keep"))] : null,
      ),
    );
    return nodes;
  }

  _changeAnswer() {
    if (this._busy) return;
    this._setError("");
    this._step = "start";
    this._render({ focus: true });
  }

  _renderDone() {
    const kase = this._case;
    const facts = [
      h("dt", {}, this.t("reference")),
      h("dd", {}, h("strong", { class: "gc-reference" }, kase.reference)),
    ];
    if (kase.effective_at) {
      facts.push(h("dt", {}, this.t("takes_effect")), h("dd", {}, this._formatDate(kase.effective_at)));
    }
    return [
      this._heading(this.t("done_heading")),
      h("p", { class: "gc-lead" }, this.t("done_lead")),
      h(
        "section",
        { class: "gc-card gc-receipt", part: "receipt", "aria-labelledby": `${this._id}-receipt` },
        this._heading(this.t("receipt_heading"), "receipt"),
        h("dl", { class: "gc-facts" }, facts),
      ),
      kase.can_reactivate
        ? h(
            "section",
            { class: "gc-card", "aria-labelledby": `${this._id}-reactivate` },
            this._heading(this.t("reactivate_heading"), "reactivate"),
            kase.effective_at
              ? h(
                  "p",
                  {},
                  this.t("reactivate_until", {
                    date: this._formatDate(kase.effective_at, { time: false }),
                  }),
                )
              : null,
            this._button("gc-reactivate", this.t("reactivate"), "primary", () => this._reactivate()),
          )
        : null,
      this._backLink("back"),
    ];
  }

  _renderSaved() {
    const offer = this._case.offer;
    return [
      this._heading(this.t("saved_heading")),
      h(
        "section",
        { class: "gc-card gc-saved", "aria-labelledby": `${this._id}-saved` },
        offer ? this._heading(offer.title, "saved") : null,
        offer && offer.description ? h("p", {}, offer.description) : null,
        h("p", {}, this.t("saved_body")),
        offer ? this._promise(offer) : null,
      ),
      this._backLink("back"),
    ];
  }

  _renderReactivated() {
    return [
      this._heading(this.t("reactivated_heading")),
      h(
        "section",
        { class: "gc-card" },
        h("p", {}, this.t("reactivated_body")),
        h(
          "p",
          { class: "gc-hint" },
          `${this.t("reference")}: `,
          h("span", { class: "gc-reference" }, this._case.reference),
        ),
      ),
      this._backLink("back"),
    ];
  }

  _renderProblem() {
    return [this._heading(this._problem.heading), h("p", {}, this._problem.body), this._backLink("back")];
  }
}

/** Define the element (once; a second import or a second copy of the module is harmless). */
export function define(name = TAG) {
  if (!customElements.get(name)) {
    // A registry takes each class once: other names get a subclass of their own.
    const taken = customElements.getName ? customElements.getName(GracefulCancelFlow) : null;
    customElements.define(name, name === TAG && !taken ? GracefulCancelFlow : class extends GracefulCancelFlow {});
  }
  return customElements.get(name);
}

define();
