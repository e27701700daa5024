// IMNM Navigator: small progressive enhancements only (no clinical logic; every page works without this file).
document.documentElement.classList.add("js");
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target instanceof Element && target.closest("[data-print]")) {
    event.preventDefault();
    window.print();
  }
});
