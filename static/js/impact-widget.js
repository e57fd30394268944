/* Close the Gap live impact widget for partner sites. Paste where the figures should appear:
     <script src="https://SITE/static/js/impact-widget.js" data-closegap-widget async></script>
   It puts a frame showing SITE/widget/ in place of the script tag; the frame reports its height, so
   the figures never get cut off on a narrow screen. Optional: data-height="190" for the starting height;
   data-lang="fr" for the widget's language (else the visitor's browser chooses); data-title, the frame's name for
   screen readers, in that language (the home page's snippet carries both). */
(function () {
  "use strict";
  var scripts = document.currentScript ? [document.currentScript] : document.querySelectorAll("script[data-closegap-widget]");
  Array.prototype.forEach.call(scripts, function (script) {
    if (!script.hasAttribute("data-closegap-widget") || script.hasAttribute("data-closegap-done")) return;
    script.setAttribute("data-closegap-done", "");
    var origin = new URL(script.src, document.baseURI).origin;
    var frame = document.createElement("iframe");
    var lang = (script.getAttribute("data-lang") || "").replace(/[^a-z-]/gi, "");
    frame.src = origin + (lang ? "/" + lang : "") + "/widget/";
    frame.title = script.getAttribute("data-title") || "Close the Gap";
    frame.loading = "lazy";
    frame.style.cssText = "display:block;border:0;width:100%;max-width:40rem;height:" +
      (parseInt(script.getAttribute("data-height"), 10) || 190) + "px";
    script.parentNode.insertBefore(frame, script);
    window.addEventListener("message", function (event) {
      var height = event.data && event.data.closegapWidgetHeight;
      if (event.origin === origin && event.source === frame.contentWindow && height > 0 && height < 2000) {
        frame.style.height = Math.ceil(height) + "px";
      }
    });
  });
})();
