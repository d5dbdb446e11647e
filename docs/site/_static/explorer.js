/* Kernel-free slider explorers of the static course site.
 *
 * Each .course-site-explorer (written by course_utils/site.py) holds range inputs, the frame shown now,
 * its read-out and a JSON table: for every grid position the frame file and the text the figure shows.
 * Moving a slider swaps in the matching frame and text. No kernel, no network request beyond the
 * frame images next to the page, and no fetch(), so it also works from file://.
 */
(function () {
  "use strict";

  function setup(root) {
    var data = JSON.parse(root.querySelector("script.cse-data").textContent);
    var base = root.getAttribute("data-base");
    var img = root.querySelector("img.cse-frame");
    var readout = root.querySelector(".cse-readout");
    var inputs = Array.prototype.slice.call(root.querySelectorAll("input[type=range]"));
    var outputs = Array.prototype.slice.call(root.querySelectorAll("output.cse-value"));
    var shown = -1;

    function position(k) {
      var s = data.sliders[k];
      var i = Math.round((parseFloat(inputs[k].value) - s.positions[0]) / s.step);
      return Math.min(Math.max(i, 0), s.positions.length - 1);
    }

    function show() {
      var flat = 0;
      inputs.forEach(function (input, k) {
        var i = position(k);
        flat = flat * data.sliders[k].positions.length + i;
        outputs[k].textContent = data.sliders[k].labels[i];
      });
      if (flat === shown) return;
      shown = flat;
      img.src = base + data.files[data.frames[flat]];
      // as course_utils.site.frame_alt: the title, the figure in words, this frame's read-out
      img.alt = [data.title + ".", data.alt, data.readouts[flat]].filter(Boolean).join(" ");
      readout.textContent = data.readouts[flat];
    }

    inputs.forEach(function (input) { input.addEventListener("input", show); });
    show();
    // Every frame is fetched once, after the page has loaded, so that moving a slider is instant.
    function preload() { data.files.forEach(function (f) { (new Image()).src = base + f; }); }
    if (document.readyState === "complete") preload();
    else window.addEventListener("load", preload);
    root.classList.add("cse-ready");
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll(".course-site-explorer"), setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
