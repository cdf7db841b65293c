// The community page's "Copy handle" button (a static file: the page policy allows no inline script).
(function () {
  var button = document.getElementById("copy"), status = document.getElementById("copied");
  function selectHandle() {
    var range = document.createRange(), selection = window.getSelection();
    range.selectNodeContents(document.getElementById("handle"));
    selection.removeAllRanges();
    selection.addRange(range);
    status.textContent = "Selected: press Ctrl+C (or ⌘C) to copy.";
  }
  button.addEventListener("click", function () {
    var handle = button.dataset.handle;
    if (!navigator.clipboard || !window.isSecureContext) { selectHandle(); return; }
    navigator.clipboard.writeText(handle).then(function () { status.textContent = "Copied " + handle + "."; }, selectHandle);
  });
})();
