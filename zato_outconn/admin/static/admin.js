// The admin's only script besides htmx: the page's CSRF token on every htmx request, and a
// confirmation before what cannot be undone. Kept out of the HTML so the CSP forbids inline script.
(function () {
  'use strict';
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : '';
  }
  document.addEventListener('htmx:configRequest', function (event) {
    event.detail.headers['X-CSRFToken'] = csrfToken();
  });
  // A form or button with data-confirm="text" asks first; declining stops the submit.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var text = form.getAttribute('data-confirm');
    if (text && !window.confirm(text)) {
      event.preventDefault();
    }
  }, true);
})();
