/* Put the admin's language into the few words AdminLTE and jazzmin write in English from their
   scripts (skip links, landmark labels, the language button). The words come translated from
   the page (templates/admin/base_site.html); no inline script (CSP). */
(function () {
    'use strict';

    function translate() {
        var source = document.getElementById('core-admin-i18n');
        if (!source) {
            return;
        }
        var words = source.dataset;
        document.querySelectorAll('a.skip-link[href="#main"]').forEach(function (link) {
            link.textContent = words.skipMain;
        });
        document.querySelectorAll('a.skip-link[href="#navigation"]').forEach(function (link) {
            link.textContent = words.skipNav;
        });
        document.querySelectorAll('[aria-label^="Navigation "]').forEach(function (element) {
            element.setAttribute('aria-label', element.getAttribute('aria-label').replace('Navigation', words.navigation));
        });
        document.querySelectorAll('a[title="Choose language"]').forEach(function (link) {
            link.setAttribute('title', words.language);
            link.setAttribute('aria-label', words.language);
        });
        document.querySelectorAll('.required-indicator').forEach(function (mark) {
            mark.textContent = ' ' + words.required;
        });
    }

    // AdminLTE adds its skip links when the document is parsed; this runs just after it.
    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', function () { window.setTimeout(translate, 0); });
    } else {
        window.setTimeout(translate, 0);
    }
})();

/* Django's many-to-many picker (SelectFilter2.js) asks whether any option is selected by
   making its list required for a moment and calling checkValidity(); that fires an "invalid"
   event, and AdminLTE's accessibility layer answers every "invalid" event with a red
   "Please select an item in the list." under the list and an assertive screen-reader alert.
   Nothing is wrong then, so the event stops here (capture phase, before AdminLTE's listener
   on the element); the picker's own check reads checkValidity()'s return value only. */
document.addEventListener('invalid', function (event) {
    var target = event.target;
    if (target && target.matches && target.matches('select.filtered')) {
        event.stopPropagation();
    }
}, true);
