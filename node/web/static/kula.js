// Progressive enhancement only: every page works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Buttons that ask before a destructive action: <button data-confirm="...">.
  for (const button of document.querySelectorAll("[data-confirm]")) {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }
  // "Use my location" fills latitude/longitude fields named in data-lat / data-lon.
  for (const button of document.querySelectorAll("[data-geolocate]")) {
    if (!("geolocation" in navigator)) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.geolocation.getCurrentPosition((position) => {
        document.getElementById(button.dataset.lat).value = position.coords.latitude.toFixed(5);
        document.getElementById(button.dataset.lon).value = position.coords.longitude.toFixed(5);
      });
    });
  }
});
