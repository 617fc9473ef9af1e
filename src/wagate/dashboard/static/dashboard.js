/* wagate dashboard: live updates and small conveniences. Served by wagate; no other script runs.
 *
 * The server pushes {"topics": [...]} over server-sent events (/dashboard/events). Every part of a
 * page that can change declares the topics it shows in data-topics and reloads itself (htmx,
 * hx-trigger="refresh") when one of them arrives. Replies and other actions announce their
 * topics the same way through an HX-Trigger header ("wagate:refresh").
 */
(function () {
  "use strict";
  var timers = new WeakMap();

  function refresh(el) {
    // Several events in a row (sent, delivered, read) cost one reload.
    if (timers.has(el)) { return; }
    timers.set(el, setTimeout(function () {
      timers.delete(el);
      if (document.body.contains(el)) { htmx.trigger(el, "refresh"); }
    }, 120));
  }

  function refreshTopics(topics) {
    var all = topics.indexOf("reset") >= 0;
    document.querySelectorAll("[data-topics]").forEach(function (el) {
      var mine = el.getAttribute("data-topics").split(" ");
      if (all || mine.some(function (t) { return topics.indexOf(t) >= 0; })) { refresh(el); }
    });
  }

  function setLive(state) {
    var badge = document.getElementById("live");
    if (!badge) { return; }
    badge.setAttribute("data-state", state);
    badge.textContent = badge.getAttribute("data-" + state) || state;
  }

  function connect(url) {
    var first = true;
    var source = new EventSource(url);
    source.addEventListener("hello", function () {
      setLive("live");
      // After a reconnect nothing is replayed: re-read everything the page shows.
      if (!first) { refreshTopics(["reset"]); }
      first = false;
    });
    source.onmessage = function (event) {
      try {
        refreshTopics(JSON.parse(event.data).topics || []);
      } catch (e) { /* a malformed message is ignored */ }
    };
    source.onerror = function () { setLive("reconnecting"); };
    window.addEventListener("pagehide", function () { source.close(); });
  }

  function scrollThread() {
    var box = document.getElementById("thread-box");
    if (box) { box.scrollTop = box.scrollHeight; }
  }

  function showTemplateParams(select) {
    var chosen = select.value;
    document.querySelectorAll("[data-template-params]").forEach(function (group) {
      var on = group.getAttribute("data-template-params") === chosen;
      group.hidden = !on;
      group.querySelectorAll("input").forEach(function (input) { input.disabled = !on; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var url = document.body.getAttribute("data-sse");
    if (url && window.EventSource) { connect(url); }
    scrollThread();
    var select = document.getElementById("template-select");
    if (select) { showTemplateParams(select); }
  });

  document.addEventListener("wagate:refresh", function (event) {
    refreshTopics((event.detail && event.detail.topics) || []);
  });

  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "template-select") { showTemplateParams(event.target); }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && (target.id === "thread" || target.id === "thread-box")) { scrollThread(); }
    var select = document.getElementById("template-select");
    if (select && target && target.contains(select)) { showTemplateParams(select); }
  });

  // A refresh of the reply box (the client wrote: the window may have opened) keeps the draft.
  var draft = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id === "reply" && event.detail.requestConfig && event.detail.requestConfig.verb === "get") {
      var area = target.querySelector("textarea[name=text]");
      draft = area ? area.value : null;
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (draft) {
      var area = document.querySelector("#reply textarea[name=text]");
      if (area && !area.value) { area.value = draft; }
      draft = null;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (event.detail.successful && form && form.hasAttribute && form.hasAttribute("data-reset-on-success")) {
      form.reset();
    }
  });

  // The open conversation is marked in the list pane.
  function markCurrent() {
    var page = document.querySelector(".conversation[data-conversation]");
    if (!page) { return; }
    var id = page.getAttribute("data-conversation");
    document.querySelectorAll("#inbox li[data-conversation]").forEach(function (li) {
      var on = li.getAttribute("data-conversation") === id;
      li.classList.toggle("current", on);
      var link = li.querySelector("a");
      if (link) { if (on) { link.setAttribute("aria-current", "page"); } else { link.removeAttribute("aria-current"); } }
    });
  }
  document.addEventListener("htmx:afterSwap", markCurrent);

  // Keys: j / k the next and previous conversation of the list, r the reply box.
  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  function step(delta) {
    var links = Array.prototype.slice.call(document.querySelectorAll("#inbox li[data-conversation] > a"));
    if (!links.length) { return; }
    var page = document.querySelector(".conversation[data-conversation]");
    var id = page ? page.getAttribute("data-conversation") : null;
    var at = -1;
    links.forEach(function (link, i) {
      if (link.parentNode.getAttribute("data-conversation") === id || link === document.activeElement) { at = i; }
    });
    var next = at < 0 ? (delta > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + delta));
    if (next !== at) { window.location.href = links[next].getAttribute("href"); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    if (event.key === "j") { event.preventDefault(); step(1); }
    else if (event.key === "k") { event.preventDefault(); step(-1); }
    else if (event.key === "r") {
      var area = document.querySelector("#reply textarea[name=text], #reply select[name=template]");
      if (area) { event.preventDefault(); area.focus(); }
    }
  });

  // Ctrl/Cmd+Enter sends the reply.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.name === "text") {
      var form = event.target.closest("form");
      if (form) { htmx.trigger(form, "submit"); }
    }
  });
})();
