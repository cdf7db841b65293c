// Passkeys in the console (a static file: the page policy allows no inline script).
// Forms marked data-passkey="register" | "signin" | "second-factor" run a WebAuthn
// ceremony: POST <action>/options for the options, ask the browser, POST the answer to
// <action>. The CSRF token goes in the X-CSRF-Token header. Without WebAuthn the forms
// stay hidden (second-factor: an explanation is shown instead).
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
    document.querySelectorAll("form[data-passkey]").forEach(function (form) {
      var error = form.querySelector("[data-passkey-error]");
      if (error && form.dataset.passkey === "second-factor") {
        error.textContent = "This browser cannot use passkeys.";
      }
    });
    return;
  }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var raw = atob(base64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function credentialJSON(credential) {
    var response = credential.response, json = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toText(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toText(response.authenticatorData);
      json.response.signature = toText(response.signature);
      if (response.userHandle) json.response.userHandle = toText(response.userHandle);
    }
    return json;
  }

  function post(url, token, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || "The server refused: " + response.status);
        return data;
      });
    });
  }

  function run(form) {
    var kind = form.dataset.passkey, url = form.getAttribute("action");
    var token = form.querySelector("input[name=csrf]").value;
    var nameInput = form.querySelector("input[name=passkey_name]");
    return post(url + "/options", token).then(function (started) {
      var ask = kind === "register"
        ? navigator.credentials.create({ publicKey: creationOptions(started.options) })
        : navigator.credentials.get({ publicKey: requestOptions(started.options) });
      return ask.then(function (credential) {
        return post(url, token, {
          ceremony: started.ceremony,
          credential: credentialJSON(credential),
          name: nameInput ? nameInput.value : "",
          next: form.dataset.next || ""
        });
      });
    }).then(function (done) { window.location.assign(done.redirect); });
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = form.querySelector("[data-passkey-error]"), button = form.querySelector("button");
      error.textContent = "";
      button.disabled = true;
      run(form).catch(function (problem) {
        error.textContent = problem.name === "NotAllowedError"
          ? "The passkey was not used (cancelled or timed out)."
          : problem.message;
        button.disabled = false;
      });
    });
  });
})();
