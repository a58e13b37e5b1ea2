// The two-factor page (admin/two_factor.html): once django-otp-webauthn's script has registered a
// security key, show the page again, listing it. (Verification redirects by itself.)
"use strict";
document.addEventListener("otp_webauthn.register_complete", () => {
  const button = document.getElementById("passkey-register-button");
  window.location.assign(button ? button.dataset.doneUrl : window.location.pathname);
});
