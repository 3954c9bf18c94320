/* Admin change lists: the range presets and a tidy query string (no inline script: CSP). */
(function () {
    'use strict';

    function filterForm() {
        return document.getElementById('changelist-search');
    }

    // A preset is a plain link that already carries the range; with a script it also keeps
    // what the user has typed or chosen in the form but not yet sent.
    document.addEventListener('click', function (event) {
        var link = event.target.closest('a.core-range-preset');
        var form = filterForm();
        if (!link || !form || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
            return;
        }
        var gte = document.getElementById(link.dataset.gteInput);
        var lte = document.getElementById(link.dataset.lteInput);
        if (!gte || !lte || gte.form !== form || lte.form !== form) {
            return;
        }
        event.preventDefault();
        gte.value = link.dataset.gte;
        lte.value = link.dataset.lte;
        if (form.requestSubmit) {
            form.requestSubmit();
        } else {
            form.submit();
        }
    });

    // Leave empty boxes out of the URL: "?q=&amount__range__gte=&…" says nothing.
    document.addEventListener('submit', function (event) {
        var form = event.target;
        if (form !== filterForm()) {
            return;
        }
        form.querySelectorAll('input[type=text], input[type=search], input[type=date], input[type=number]')
            .forEach(function (input) {
                if (!input.value.trim()) {
                    input.disabled = true;
                }
            });
    });

    // Coming back with the browser's Back button shows the page from its cache: re-enable.
    window.addEventListener('pageshow', function () {
        var form = filterForm();
        if (form) {
            form.querySelectorAll('input:disabled').forEach(function (input) {
                input.disabled = false;
            });
        }
    });
})();
