// Console "Copy" buttons (a static file: the page policy allows no inline script), after
// copy-handle.js: <button data-copy="ID" hidden> copies the text of the element #ID and says
// so in [data-copy-status="ID"]; where the clipboard is not available, it selects the text.
(function () {
  var buttons = document.querySelectorAll("button[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var id = button.getAttribute("data-copy"), source = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!source) { return; }
    function say(text) { if (status) { status.textContent = text; } }
    function select() {
      var range = document.createRange(), selection = window.getSelection();
      range.selectNodeContents(source);
      selection.removeAllRanges();
      selection.addRange(range);
      say("Selected: press Ctrl+C (or ⌘C) to copy.");
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = source.textContent.trim();
      if (!navigator.clipboard || !window.isSecureContext) { select(); return; }
      navigator.clipboard.writeText(text).then(function () { say("Copied."); }, select);
    });
  });
})();
