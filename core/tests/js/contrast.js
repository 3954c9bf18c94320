// WCAG 2.1 contrast of every visible piece of text on the page, against the background it is
// actually drawn on (ancestors' colours blended, opacity included). Returns the failures:
// below 4.5:1, or below 3:1 for large text (>= 24px, or >= 18.66px bold). Disabled controls are
// exempt (WCAG 1.4.3). Elements over a background image are skipped (no single colour).
() => {
    function parse(colour) {
        const m = colour.match(/rgba?\(([^)]+)\)/);
        if (!m) return null;
        const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
        return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    }
    function over(top, bottom) {
        const a = top.a + bottom.a * (1 - top.a);
        if (a === 0) return { r: 0, g: 0, b: 0, a: 0 };
        const mix = (t, b) => (t * top.a + b * bottom.a * (1 - top.a)) / a;
        return { r: mix(top.r, bottom.r), g: mix(top.g, bottom.g), b: mix(top.b, bottom.b), a };
    }
    function luminance(c) {
        const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
    }
    function background(el) {
        const layers = [];
        for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
            const style = getComputedStyle(node);
            if (style.backgroundImage && style.backgroundImage !== 'none') return null;
            const c = parse(style.backgroundColor);
            if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
        }
        let result = { r: 255, g: 255, b: 255, a: 1 };
        for (let i = layers.length - 1; i >= 0; i--) result = over(layers[i], result);
        return result;
    }
    function opacity(el) {
        let o = 1;
        for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
            o *= parseFloat(getComputedStyle(node).opacity);
        }
        return o;
    }
    const failures = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    while (walker.nextNode()) {
        const text = walker.currentNode.textContent.trim();
        const el = walker.currentNode.parentElement;
        if (!text || !el || seen.has(el)) continue;
        seen.add(el);
        if (el.closest('script,style,noscript,option,[aria-hidden=true],.visually-hidden,.sr-only')) continue;
        if (el.closest(':disabled,.disabled,[disabled]')) continue;
        const style = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        if (style.visibility !== 'visible' || style.display === 'none' || box.width === 0 || box.height === 0) continue;
        if (el.offsetParent === null && style.position !== 'fixed') continue;
        const bg = background(el);
        if (!bg) continue;
        let fg = parse(style.color);
        if (!fg) continue;
        fg = over({ ...fg, a: fg.a * opacity(el) }, bg);
        const l1 = luminance(fg), l2 = luminance(bg);
        const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
        const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
        const large = size >= 24 || (bold && size >= 18.66);
        if (ratio < (large ? 3 : 4.5)) {
            failures.push({
                text: text.slice(0, 40), ratio: Math.round(ratio * 100) / 100,
                tag: el.tagName.toLowerCase(), cls: (el.className && el.className.baseVal === undefined ? el.className : '').toString().slice(0, 60),
                color: style.color, background: `rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)})`,
            });
        }
    }
    return failures;
}
