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
        // Let listeners (such as the place preview) know the fields changed.
        document.getElementById(button.dataset.lat).dispatchEvent(new Event("input"));
      });
    });
  }
});

// Listing form: preview the place as others will see it, rounded with the
// digits the server keeps for each precision (data-precision-digits).
document.addEventListener("DOMContentLoaded", () => {
  const preview = document.getElementById("location-preview");
  if (!preview) return;
  const digits = JSON.parse(preview.dataset.precisionDigits);
  const fields = ["field-latitude", "field-longitude", "field-precision"]
    .map((id) => document.getElementById(id));
  const [latitude, longitude, precision] = fields;
  const update = () => {
    const lat = parseFloat(latitude.value.replace(",", "."));
    const lon = parseFloat(longitude.value.replace(",", "."));
    if (Number.isNaN(lat) || Number.isNaN(lon)) {
      preview.hidden = true;
      return;
    }
    const places = digits[precision.value] ?? 2;
    preview.textContent = `${preview.dataset.label} ${lat.toFixed(places)}, ${lon.toFixed(places)}`;
    preview.hidden = false;
  };
  for (const field of fields) {
    field.addEventListener("input", update);
    field.addEventListener("change", update);
  }
  update();
});

// Accounts: a shown-once token secret is selected on focus, and copied by its button.
document.addEventListener("DOMContentLoaded", () => {
  for (const field of document.querySelectorAll("[data-select-on-focus]")) {
    field.addEventListener("focus", () => field.select());
  }
  for (const button of document.querySelectorAll("[data-copy]")) {
    if (!navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      const field = document.getElementById(button.dataset.copy);
      navigator.clipboard.writeText(field.value);
    });
  }
});
