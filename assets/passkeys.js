// Passkeys on the pages. The server puts the WebAuthn options on a button
// (`data-passkey="create"` or `"get"`, options in `data-options`, in their JSON form with
// binary members base64url); a click hands them to the browser, and the browser's answer
// goes back in the form's `credential` field. A file, not inline script: the pages' CSP
// allows only scripts of this server.
"use strict";

(() => {
  const toBytes = (text) =>
    Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const toText = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  const descriptors = (list) => (list || []).map((d) => ({ ...d, id: toBytes(d.id) }));

  const ceremonies = {
    create: (options) => {
      const o = options.publicKey;
      return navigator.credentials.create({
        publicKey: {
          ...o,
          challenge: toBytes(o.challenge),
          user: { ...o.user, id: toBytes(o.user.id) },
          excludeCredentials: descriptors(o.excludeCredentials),
        },
      });
    },
    get: (options) => {
      const o = options.publicKey;
      return navigator.credentials.get({
        publicKey: { ...o, challenge: toBytes(o.challenge), allowCredentials: descriptors(o.allowCredentials) },
      });
    },
  };

  // The credential in the JSON form the server reads (what `toJSON()` gives where it exists).
  const asJson = (credential) => {
    const r = credential.response;
    const response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = r.userHandle ? toText(r.userHandle) : null;
    }
    return { type: credential.type, id: credential.id, rawId: toText(credential.rawId), response };
  };

  for (const button of document.querySelectorAll("button[data-passkey]")) {
    const form = button.form;
    const status = form.querySelector(".passkey-status");
    if (!window.PublicKeyCredential) {
      button.disabled = true;
      status.textContent = "This browser cannot use passkeys.";
      continue;
    }
    button.addEventListener("click", async () => {
      status.textContent = "Waiting for your passkey…";
      try {
        const credential = await ceremonies[button.dataset.passkey](JSON.parse(button.dataset.options));
        form.elements.credential.value = JSON.stringify(asJson(credential));
        form.submit();
      } catch (e) {
        status.textContent = `The passkey did not answer (${e.name}). Try again, or use another way.`;
      }
    });
  }
})();
