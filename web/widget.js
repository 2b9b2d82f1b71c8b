// Starts the Callback Coach chat widget (rasa-webchat) on this page.
// Options can be set before this script with window.CALLBACK_COACH = { socketUrl: "…" }.
(function () {
  "use strict";
  var options = window.CALLBACK_COACH || {};
  var timezone;
  try {
    timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    timezone = undefined;
  }

  window.WebChat.default(
    {
      selector: options.selector || "#webchat",
      socketUrl: options.socketUrl || window.location.origin,
      socketPath: "/socket.io/",
      initPayload: "/greet",
      // Sent with every message: the coach counts dates in the user's own time zone
      // and reads them in the user's order (day first or month first). The server
      // keeps only these two keys.
      customData: { timezone: timezone, locale: navigator.language },
      title: "Callback Coach",
      subtitle: "After the interview",
      inputTextFieldHint: "Tell me what happened…",
      showFullScreenButton: false,
      // The conversation and its session id survive a reload of the page.
      params: { storage: "local" },
      // The widget would type each bubble out for up to 3 s; the reply is there already.
      customMessageDelay: function () {
        return 150;
      },
    },
    null
  );

  // Names for screen readers on the widget's controls.
  var labels = [
    [".rw-launcher", "Open the Callback Coach chat"],
    [".rw-close-button", "Close the chat"],
    [".rw-new-message", "Your message"],
    [".rw-send", "Send"],
    [".rw-messages-container", "Conversation"],
  ];
  function label() {
    labels.forEach(function (pair) {
      document.querySelectorAll(pair[0]).forEach(function (element) {
        if (!element.getAttribute("aria-label")) {
          element.setAttribute("aria-label", pair[1]);
        }
      });
    });
    document.querySelectorAll(".rw-messages-container").forEach(function (element) {
      element.setAttribute("role", "log");
      element.setAttribute("aria-live", "polite");
    });
  }
  new MutationObserver(label).observe(document.body, { childList: true, subtree: true });
  label();
})();
