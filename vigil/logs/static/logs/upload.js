// Upload progress for the log upload form (htmx posts it; its xhr progress events drive the bar).
document.addEventListener("htmx:xhr:progress", function (event) {
  var form = event.target.closest ? event.target.closest(".log-upload") : null;
  if (!form || !event.detail.lengthComputable) return;
  var bar = form.querySelector(".upload-progress");
  var status = form.querySelector(".upload-status");
  var share = Math.round((event.detail.loaded / event.detail.total) * 100);
  bar.hidden = false;
  bar.value = share;
  bar.textContent = share + " %";
  status.textContent = share < 100 ? "Uploading: " + share + " %" : "Uploaded; mining the lines into groups ...";
});
