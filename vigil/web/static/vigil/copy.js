// Copy buttons: <button class="copy" data-copy="ID" hidden> copies the text of the element with
// that id. The buttons stay hidden without JavaScript; the text can still be selected by hand.
(function () {
  "use strict";

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copied(button, text) {
    var label = button.textContent;
    button.textContent = text;
    button.disabled = true;
    window.setTimeout(function () {
      button.textContent = label;
      button.disabled = false;
    }, 2000);
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) return;
    var text = target.textContent;
    // The clipboard API needs a secure context (https or localhost); elsewhere the old way.
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copied(button, "Copied"); },
        function () { selectText(target); copied(button, "Selected: press Ctrl+C"); }
      );
      return;
    }
    selectText(target);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    copied(button, ok ? "Copied" : "Selected: copy it");
  }

  function init() {
    var buttons = document.querySelectorAll("button.copy[data-copy]");
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].dataset.copyReady) continue;
      buttons[i].dataset.copyReady = "1";
      buttons[i].hidden = false;
      buttons[i].addEventListener("click", function (event) { copy(event.currentTarget); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
