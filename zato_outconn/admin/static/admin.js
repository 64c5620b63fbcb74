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
  // htmx 2 swaps no 4xx or 5xx answer by itself; the admin answers htmx's requests that fail with a
  // short HTML fragment saying why (a 403 to a viewer, a missing CSRF token), shown in place.
  document.addEventListener('htmx:beforeSwap', function (event) {
    var xhr = event.detail.xhr;
    var type = xhr.getResponseHeader('Content-Type') || '';
    if (xhr.status >= 400 && type.indexOf('text/html') === 0) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
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
