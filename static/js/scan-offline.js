/* The scan station, offline: IndexedDB keeps the person's hubs' movable devices (refreshed by cursor), the
   transfers arriving at them (refreshed by ETag) and a queue of moves (UUID, moment, maker), sent to /api/v1/sync/
   when the connection returns. Without it the station is the server's page. State for tests: data-offline-ready,
   -cache-state, -cache-count, -queue-count, -sync-state, -transfer-count. */
(function () {
  "use strict";
  var root = document.querySelector("[data-offline-station]");
  if (!root || !window.indexedDB || !window.crypto || !crypto.randomUUID) { return; }

  var T = {}, LIFE = {};  // the sentences and the moves per state, from the offline kit (loadKit)
  function data(name) { return root.getAttribute("data-" + name); }
  function byId(id) { return document.getElementById(id); }
  var userId = Number(data("user")), language = data("language"), maxMoves = Number(data("max-moves")) || 100;
  var result = byId("scan-result"), statusLine = byId("offline-status");
  var queueBox = byId("offline-queue"), outcomesBox = byId("offline-outcomes");
  var tokenInput = document.querySelector("input[name=csrfmiddlewaretoken]");
  var csrf = tokenInput ? tokenInput.value : "";
  var DB_NAME = "closegap-scan", DAY_MS = 24 * 3600 * 1000;
  var COLUMNS = ["label_code", "serial", "asset_tag", "category", "model", "state", "version", "hub"];
  var dbPromise = null, db = null, reachable = navigator.onLine, syncing = false, syncAgain = false;
  var lastSeq = 0, deviceCount = 0;

  function fmt(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (match, key) {
      return values[key] === undefined ? match : String(values[key]);
    });
  }
  function online() { return navigator.onLine && reachable; }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function openDb() {
    if (dbPromise) { return dbPromise; }
    dbPromise = new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 2);
      request.onupgradeneeded = function (event) {
        // Only what this browser's copy lacks: a version 1 database keeps its queue, devices and meta.
        var upgrade = request.result;
        if (event.oldVersion < 1) {
          var devices = upgrade.createObjectStore("devices", { keyPath: "label_code" });
          devices.createIndex("serial", "serial");
          devices.createIndex("asset_tag", "asset_tag");
          upgrade.createObjectStore("queue", { keyPath: "id" }).createIndex("seq", "seq");
          upgrade.createObjectStore("meta", { keyPath: "key" });
        }
        if (event.oldVersion < 2) { upgrade.createObjectStore("transfers", { keyPath: "id" }); }
      };
      request.onsuccess = function () {
        db = request.result;
        // Signing out deletes the database: let it go at once instead of blocking the deletion.
        db.onversionchange = function () { db.close(); db = null; dbPromise = null; };
        resolve(db);
      };
      request.onerror = function () { dbPromise = null; reject(request.error); };
    });
    return dbPromise;
  }

  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  // Run ``work(stores)`` in one transaction; resolves with what it returned once the transaction completed.
  function withStores(names, mode, work) {
    return openDb().then(function (database) {
      return new Promise(function (resolve, reject) {
        var transaction = database.transaction(names, mode);
        var stores = {};
        names.forEach(function (name) { stores[name] = transaction.objectStore(name); });
        var outcome = work(stores);
        transaction.oncomplete = function () { Promise.resolve(outcome).then(resolve, reject); };
        transaction.onerror = transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function metaGet(key) {
    return withStores(["meta"], "readonly", function (s) { return done(s.meta.get(key)); })
      .then(function (row) { return row ? row.value : null; });
  }
  function metaSet(key, value) {
    return withStores(["meta"], "readwrite", function (s) { s.meta.put({ key: key, value: value }); });
  }

  function rowToDevice(columns, row) {
    var device = {};
    columns.forEach(function (name, index) { device[name] = row[index]; });
    device.serial = device.serial || "";
    device.asset_tag = device.asset_tag || "";
    return device;
  }
  function cacheable(device) { return Object.prototype.hasOwnProperty.call(LIFE.actions, device.state); }

  function devicesPut(devices, gone) {
    return withStores(["devices"], "readwrite", function (s) {
      devices.forEach(function (device) {
        if (cacheable(device)) { s.devices.put(device); } else { s.devices.delete(device.label_code); }
      });
      (gone || []).forEach(function (code) { s.devices.delete(code); });
    });
  }

  function devicesCount() {
    return withStores(["devices"], "readonly", function (s) { return done(s.devices.count()); }).then(function (n) {
      deviceCount = n;
      root.setAttribute("data-cache-count", String(n));
      return n;
    });
  }

  function devicesFind(code) {
    var wanted = code.trim();
    var upper = wanted.toUpperCase();
    return withStores(["devices"], "readonly", function (s) {
      return Promise.all([
        done(s.devices.get(upper)),
        done(s.devices.index("serial").getAll(wanted)),
        done(s.devices.index("serial").getAll(upper)),
        done(s.devices.index("asset_tag").getAll(wanted)),
      ]);
    }).then(function (found) {
      var byCode = {};
      [found[0]].concat(found[1], found[2], found[3]).forEach(function (device) {
        if (device) { byCode[device.label_code] = device; }
      });
      return Object.keys(byCode).map(function (key) { return byCode[key]; });
    });
  }

  function queueAll() {
    return withStores(["queue"], "readonly", function (s) { return done(s.queue.index("seq").getAll()); })
      .then(function (moves) { return moves.filter(function (move) { return move.actor === userId; }); });
  }

  function showStatus() {
    if (!online()) {
      statusLine.textContent = fmt(T.status_offline, { count: deviceCount });
      statusLine.hidden = false;
    } else if (root.getAttribute("data-sync-state") !== "signin") {
      statusLine.hidden = true;
      statusLine.textContent = "";
    }
  }

  function renderQueue() {
    return queueAll().then(function (moves) {
      var count = moves.length;
      root.setAttribute("data-queue-count", String(count));
      queueBox.hidden = count === 0 && online();
      var heading = queueBox.querySelector("[data-queue-heading]");
      if (!online()) {
        heading.textContent = count === 0 ? T.queue_none : fmt(count === 1 ? T.queue_one : T.queue_many, { count: count });
      } else {
        heading.textContent = fmt(count === 1 ? T.queue_online_one : T.queue_online_many, { count: count });
      }
      queueBox.querySelector("[data-queue-note]").textContent = count ? T.queue_note : "";
      queueBox.querySelector("[data-queue-note]").hidden = count === 0;
      var button = queueBox.querySelector("[data-sync-now]");
      button.textContent = T.send_now;
      button.hidden = count === 0;
      button.disabled = !online();
      var list = queueBox.querySelector("[data-queue-list]");
      list.textContent = "";
      moves.forEach(function (move) {
        var item = fromTemplate("offline-move", {
          what: move.action_label + ": " + move.device_name, when: new Date(move.occurred_at).toLocaleString(language),
        });
        item.setAttribute("data-move", move.id);
        item.querySelector("time").setAttribute("datetime", move.occurred_at);
        var drop = item.querySelector("[data-drop]");
        drop.setAttribute("data-drop", move.id);
        drop.setAttribute("aria-label", fmt(T.drop_label, { action: move.action_label, device: move.device_name }));
        list.appendChild(item);
      });
      lastSeq = moves.reduce(function (max, move) { return Math.max(max, move.seq); }, lastSeq);
      showStatus();
      return count;
    });
  }

  function renderOutcomes(summary, answers) {
    outcomesBox.hidden = false;
    outcomesBox.querySelector("[data-outcomes-heading]").textContent = T.outcomes;
    outcomesBox.querySelector("[data-outcomes-summary]").textContent = fmt(T.sync_done, summary);
    var list = outcomesBox.querySelector("[data-outcomes-list]");
    list.textContent = "";
    answers.forEach(function (answer) {
      var item = el("li", { "class": "answer-" + answer.status, "data-answer": answer.status });
      item.appendChild(el("strong", {}, T[answer.status] + ": "));
      item.appendChild(document.createTextNode(answer.action_label + ", " + answer.device_name + ". " + answer.message));
      list.appendChild(item);
    });
  }

  function deviceName(device) {
    return (device.model || device.category || "") + " · " + device.label_code;
  }

  function focusScanField() {
    var field = root.querySelector("[data-scan-field]");
    if (field) { field.focus(); field.select(); }
  }

  // A copy of one of the kit's templates, its [data-slot] elements filled with text (an empty slot's box is hidden).
  function fromTemplate(id, slots) {
    var node = byId(id).content.firstElementChild.cloneNode(true);
    Object.keys(slots).forEach(function (name) {
      var slot = node.querySelector("[data-slot='" + name + "']");
      slot.textContent = slots[name] || "";
      if (!slots[name]) { (slot.closest(".facts > div") || slot).hidden = true; }
    });
    return node;
  }

  function cardFor(device, message) {
    var actions = LIFE.actions[device.state] || [];
    var card = fromTemplate("offline-card", {
      message: message, name: deviceName(device), state: LIFE.states[device.state] || device.state,
      hub: fmt(T.at_hub, { hub: device.hub }), label_code: device.label_code, serial: device.serial,
      asset_tag: device.asset_tag, model: device.model, next: actions.length ? T.next : "",
      "no-moves": actions.length ? "" : T.no_moves,
    });
    card.setAttribute("data-device-state", device.state);
    card.setAttribute("data-label-code", device.label_code);
    card.querySelector("[data-slot=state]").classList.add("state-" + device.state);
    var box = card.querySelector("[data-offline-actions]");
    actions.forEach(function (action) {
      var danger = action === "mark_missing" ? " danger secondary" : "";
      box.appendChild(el("button", { type: "button", "class": "button big" + danger, "data-offline-action": action },
        LIFE.labels[action]));
    });
    return card;
  }

  function show(node) {
    result.textContent = "";
    result.appendChild(node);
  }

  function showDevice(device, message) {
    show(cardFor(device, message));
    focusScanField();
  }

  function lookUp(code) {
    var field = root.querySelector("[data-scan-field]");
    if (field && field.value !== code) { field.value = code; }
    return devicesFind(code).then(function (devices) {
      if (devices.length === 1) { return showDevice(devices[0]); }
      if (!devices.length) {
        show(el("p", { "class": "scan-message error", role: "alert", "data-scan-outcome": "unknown" },
          fmt(T.not_found, { code: code })));
        return focusScanField();
      }
      var section = el("section", { "data-scan-outcome": "several" });
      section.appendChild(el("h2", { tabindex: "-1" }, fmt(T.several, { count: devices.length, code: code })));
      var list = el("ul", { "class": "scan-matches" });
      devices.forEach(function (device) {
        var item = el("li");
        item.appendChild(el("button", { type: "button", "class": "link", "data-offline-pick": device.label_code },
          deviceName(device)));
        list.appendChild(item);
      });
      section.appendChild(list);
      show(section);
    });
  }

  function cachedDevice(code) {
    return withStores(["devices"], "readonly", function (s) { return done(s.devices.get(code)); });
  }

  function openForm(device, action) {
    var template = byId("offline-form-" + action);
    var card = result.querySelector("[data-offline-actions]");
    if (!template || !card) { return; }
    var form = template.content.firstElementChild.cloneNode(true);
    form.setAttribute("data-label-code", device.label_code);
    card.replaceWith(form);
    var first = form.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
  }

  function predictedState(action, fields) {
    if (action === "inspect" && String(fields.passed) !== "true") { return LIFE.failed_target; }
    return LIFE.targets[action];
  }

  function newMove(device, action, fields, version, label) {
    lastSeq = Math.max(Date.now(), lastSeq + 1);
    return {
      id: crypto.randomUUID(),  // a secure context, as service workers need
      code: device.label_code,
      action: action,
      fields: fields,
      version: version === undefined ? device.version : version,
      occurred_at: new Date().toISOString(),
      actor: userId,
      seq: lastSeq,
      device_name: deviceName(device),
      action_label: label,
      before: { state: device.state, version: device.version },
    };
  }

  // Keep a move in the queue and move the cached device where the move should take it (the server decides).
  function queueMove(device, action, fields, version) {
    var move = newMove(device, action, fields, version, LIFE.labels[action]);
    var moved = Object.assign({}, device, { state: predictedState(action, fields), version: move.version + 1 });
    return withStores(["queue", "devices"], "readwrite", function (s) {
      s.queue.put(move);
      s.devices.put(moved);
    }).then(renderQueue).then(function () {
      showDevice(moved, fmt(T.queued, { action: move.action_label, device: move.device_name }));
      if (online()) { sync(); }
    });
  }

  // Transfer check-in: while a transfer is chosen, a scan checks in the device it carries. Kept in the queue like
  // the moves (sent at once when online), so online and offline take the same road and the server decides.
  var CHECK_IN = "check_in", transferSelect = byId("scan-transfer"), transferBox = byId("scan-transfer-box");
  var transferDetail = byId("scan-transfer-detail");
  var transfersLoading = null, checkIns = Promise.resolve(), transferRestored = false;

  function chosenTransfer() { return transferSelect && transferSelect.value ? Number(transferSelect.value) : null; }

  // As transfer_item_for_scan: the serial, asset tag or label code, trimmed (and here without regard to case: the
  // move names the device by its label code, which the server compares in capitals).
  function itemFor(transfer, code) {
    var upper = code.trim().toUpperCase();
    return transfer.devices.filter(function (row) {
      return [row.label_code, row.serial, row.asset_tag].some(function (v) { return v && v.toUpperCase() === upper; });
    })[0];
  }

  function transfersAll() {
    return withStores(["transfers", "queue"], "readonly", function (s) {
      return Promise.all([done(s.transfers.getAll()), done(s.queue.getAll())]);
    }).then(function (found) {
      var queued = {};
      found[1].forEach(function (move) {
        if (move.action === CHECK_IN && move.actor === userId) { queued[move.fields.transfer + " " + move.code] = true; }
      });
      return { transfers: found[0], queued: queued };
    });
  }

  function renderTransfers() {
    if (!transferSelect) { return; }
    return Promise.all([transfersAll(), metaGet("transfer")]).then(function (found) {
      // The choice kept from last time on the first drawing; after that, the person's.
      var keep = transferRestored ? transferSelect.value : String(found[1] || "");
      transferRestored = true;
      var details = {};
      while (transferSelect.options.length > 1) { transferSelect.remove(1); }
      found[0].transfers.forEach(function (transfer) {
        var values = Object.assign({}, transfer, { total: transfer.devices.length, count: transfer.devices.filter(function (row) {
          return row.status === "in_transit" && !found[0].queued[transfer.id + " " + row.label_code];
        }).length });
        details[transfer.id] = fmt(T.transfer_detail, values);
        transferSelect.appendChild(el("option", { value: String(transfer.id) }, fmt(T.transfer_option, values)));
      });
      transferSelect.value = keep;
      if (transferSelect.selectedIndex < 0) { transferSelect.selectedIndex = 0; }  // closed since it was chosen
      transferDetail.textContent = details[transferSelect.value] || "";
      transferDetail.hidden = !transferSelect.value;
      transferBox.hidden = found[0].transfers.length === 0;
      root.setAttribute("data-transfer-count", String(found[0].transfers.length));
    });
  }

  // The transfers arriving at the person's hubs, asked again with the ETag kept: a 304 keeps what is stored.
  function refreshTransfers() {
    if (!transferSelect) { return Promise.resolve(); }
    if (transfersLoading) { return transfersLoading; }
    transfersLoading = metaGet("transfers_etag").then(function (etag) {
      var headers = { Accept: "application/json" };
      if (etag) { headers["If-None-Match"] = etag; }
      return fetch(data("transfers-url"), { credentials: "same-origin", headers: headers });
    }).then(function (response) {
      if (response.status === 401 || response.status === 403) { throw new AuthNeeded(); }
      if (response.status === 304) { return; }
      if (!response.ok) { throw new Error("transfers " + response.status); }
      return response.json().then(function (body) {
        return withStores(["transfers"], "readwrite", function (s) {
          s.transfers.clear();
          body.transfers.forEach(function (transfer) {
            s.transfers.put(Object.assign({}, transfer, {
              devices: transfer.devices.map(function (row) { return rowToDevice(body.columns, row); }),
            }));
          });
        }).then(function () { return metaSet("transfers_etag", response.headers.get("ETag")); });
      });
    }).then(renderTransfers);
    var settle = function () { transfersLoading = null; };
    transfersLoading.then(settle, settle);
    return transfersLoading;
  }

  function say(kind, role, outcome, text) {
    show(el("p", { "class": "scan-message " + kind, role: role, "data-scan-outcome": outcome }, text));
    focusScanField();
  }

  // One scan after the other (a scanner types fast): the second of two scans of one device sees the first.
  function checkIn(transferId, code) {
    checkIns = checkIns.then(function () { return checkInNow(transferId, code); }).catch(function () {});
    return checkIns;
  }

  function checkInNow(transferId, code) {
    return transfersAll().then(function (found) {
      var transfer = found.transfers.filter(function (t) { return t.id === transferId; })[0];
      if (!transfer) { return renderTransfers(); }
      var row = itemFor(transfer, code);
      if (!row) {
        return say("error", "alert", "not-in-transfer", fmt(T.not_in_transfer, { scan: code, reference: transfer.reference }));
      }
      if (row.status !== "in_transit" || found.queued[transfer.id + " " + row.label_code]) {
        return say("", "status", "already-checked-in", fmt(T.already_checked_in, { device: deviceName(row) }));
      }
      var move = newMove(row, CHECK_IN, { transfer: transfer.id }, undefined,
        fmt(T.check_in_label, { reference: transfer.reference }));
      move.before.status = row.status;
      row.status = "received";  // as the server will answer, until it does
      return withStores(["queue", "transfers", "meta"], "readwrite", function (s) {
        s.queue.put(move);
        s.transfers.put(transfer);
        s.meta.delete("transfers_etag");  // the store is no longer the server's: the next refresh takes it whole
      }).then(renderQueue).then(renderTransfers).then(function () {
        say("ok", "status", "checked-in", fmt(T.checked_in, { device: move.device_name, reference: transfer.reference }));
        if (online()) { sync(); }
      });
    });
  }

  if (transferSelect) {
    // Chosen by pointer (a tap, a click): the scan field takes the focus, so the scanner's next code is a scan and
    // not the select's type-ahead. From the keyboard (arrows change it at once), the focus stays where it is.
    var byKeyboard = false;
    transferSelect.addEventListener("keydown", function () { byKeyboard = true; });
    transferSelect.addEventListener("pointerdown", function () { byKeyboard = false; });
    transferSelect.addEventListener("change", function () {
      var field = byId("scan-code");
      if (!byKeyboard && field) { field.focus(); }
      metaSet("transfer", chosenTransfer()).then(renderTransfers);
    });
  }

  function formFields(formData) {
    var fields = {};
    formData.forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && name !== "version") { fields[name] = String(value); }
    });
    return fields;
  }

  function dropMove(id) {
    return withStores(["queue", "devices", "transfers"], "readwrite", function (s) {
      return done(s.queue.get(id)).then(function (move) {
        if (!move) { return; }
        s.queue.delete(id);
        if (move.action === CHECK_IN) {
          return done(s.transfers.get(move.fields.transfer)).then(function (transfer) {
            var row = transfer && itemFor(transfer, move.code);
            if (row) { row.status = move.before.status; s.transfers.put(transfer); }
          });
        }
        return done(s.devices.get(move.code)).then(function (device) {
          // Back to what it was, unless a later move was kept for it since.
          if (device && device.version === move.version + 1) {
            s.devices.put(Object.assign(device, move.before));
          }
        });
      });
    }).then(renderQueue).then(renderTransfers);
  }

  function AuthNeeded() {}

  function refresh() {
    return Promise.all([metaGet("cursor"), metaGet("full_at")]).then(function (meta) {
      var cursor = meta[0];
      if (!meta[1] || Date.now() - meta[1] > DAY_MS) {
        // Once a day from scratch: devices that left the person's hubs (a transfer) leave the cache too.
        cursor = null;
      }
      return fetchPage(cursor, !cursor);
    }).then(devicesCount).then(refreshTransfers).then(function () {
      root.setAttribute("data-cache-state", "ready");
      showStatus();
    });
  }

  function fetchPage(cursor, fromScratch) {
    var url = data("cache-url") + (cursor ? "?cursor=" + encodeURIComponent(cursor) : "");
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (response.status === 401 || response.status === 403) { throw new AuthNeeded(); }
      if (response.status === 400) { return fetchPage(null, true); }
      if (!response.ok) { throw new Error("cache " + response.status); }
      return response.json().then(function (page) {
        csrf = page.csrf || csrf;
        var devices = page.devices.map(function (row) { return rowToDevice(page.columns, row); });
        var clear = fromScratch ? withStores(["devices"], "readwrite", function (s) { s.devices.clear(); }) : Promise.resolve();
        return clear.then(function () { return devicesPut(devices, page.gone); }).then(function () {
          var writes = [metaSet("cursor", page.cursor)];
          if (fromScratch) { writes.push(metaSet("full_at", Date.now())); }
          return Promise.all(writes);
        }).then(function () { if (page.more) { return fetchPage(page.cursor, false); } });
      });
    });
  }

  function wire(move) {
    return {
      id: move.id, code: move.code, action: move.action, fields: move.fields,
      version: move.version, occurred_at: move.occurred_at, actor: move.actor,
    };
  }

  function sendBatches(totals, answers) {
    return queueAll().then(function (moves) {
      if (!moves.length) { return; }
      var batch = moves.slice(0, maxMoves);
      return fetch(data("sync-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ language: language, moves: batch.map(wire) }),
      }).then(function (response) {
        if (response.status === 401 || response.status === 403) { throw new AuthNeeded(); }
        if (!response.ok) { throw new Error("sync " + response.status); }
        return response.json();
      }).then(function (body) {
        var byId = {};
        batch.forEach(function (move) { byId[move.id] = move; });
        return withStores(["queue", "devices"], "readwrite", function (s) {
          body.results.forEach(function (answer) {
            var move = byId[answer.id];
            if (!move) { return; }
            s.queue.delete(answer.id);
            totals[answer.status] = (totals[answer.status] || 0) + 1;
            if (answer.status === "refused" || answer.status === "conflict") {
              answers.push({ status: answer.status, message: answer.message,
                action_label: move.action_label, device_name: move.device_name });
            }
            if (answer.device) {
              var device = rowToDevice(COLUMNS, answer.device);
              if (cacheable(device)) { s.devices.put(device); } else { s.devices.delete(device.label_code); }
            } else if (answer.status === "refused") {
              s.devices.delete(move.code);
            }
          });
        });
      }).then(function () { return sendBatches(totals, answers); });
    });
  }

  function sync() {
    if (syncing) { syncAgain = true; }  // a move kept meanwhile goes out once this sync is over
    if (syncing || !online()) { return Promise.resolve(); }
    syncing = true;
    var totals = { applied: 0, duplicate: 0, refused: 0, conflict: 0 };
    var answers = [];
    return queueAll().then(function (moves) {
      if (!moves.length) { return false; }
      root.setAttribute("data-sync-state", "sending");
      statusLine.textContent = T.sending;
      statusLine.hidden = false;
      return sendBatches(totals, answers).then(function () { return true; });
    }).then(function (sent) {
      if (sent) {
        renderOutcomes(totals, answers);
        refreshTransfers().catch(function () {});  // what the check-ins sent changed
        return metaSet("outcomes", { totals: totals, answers: answers }).then(function () {
          root.setAttribute("data-sync-state", "done");
        });
      }
    }, function (error) {
      if (error instanceof AuthNeeded) { return askToSignIn(); }
      reachable = false;  // the network failed under us: offline until the browser says otherwise
      root.setAttribute("data-sync-state", "offline");
    }).then(function () {
      syncing = false;
      return devicesCount().then(renderQueue).then(function () {
        if (syncAgain) { syncAgain = false; return sync(); }
      });
    });
  }

  function askToSignIn() {
    root.setAttribute("data-sync-state", "signin");
    statusLine.textContent = T.sign_in + " ";
    statusLine.appendChild(el("a", { href: data("login-url") }, T.sign_in_link));
    statusLine.hidden = false;
  }

  function goOnline() {
    reachable = true;
    renderQueue();
    return sync().then(refresh).catch(function (error) {
      if (error instanceof AuthNeeded) { askToSignIn(); }
    });
  }

  // Before scan.js (which sends the forms to the server): offline, a scan is looked up here instead.
  root.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-offline-form")) {
      event.preventDefault();
      event.stopImmediatePropagation();
      var code = form.getAttribute("data-label-code");
      var action = form.getAttribute("data-offline-form");
      cachedDevice(code).then(function (device) { if (device) { queueMove(device, action, formFields(new FormData(form))); } });
      return;
    }
    if (form.classList.contains("scan-form") && (!online() || chosenTransfer())) {
      event.preventDefault();
      event.stopImmediatePropagation();
      var value = (form.querySelector("[data-scan-field]").value || "").trim();
      if (value && chosenTransfer()) { checkIn(chosenTransfer(), value); } else if (value) { lookUp(value); }
    }
  }, true);

  root.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("button") : null;
    if (!target) { return; }
    if (target.hasAttribute("data-drop")) { dropMove(target.getAttribute("data-drop")); return; }
    if (target.hasAttribute("data-sync-now")) { sync().then(refresh).catch(function () {}); return; }
    if (target.hasAttribute("data-offline-pick")) {
      cachedDevice(target.getAttribute("data-offline-pick")).then(function (device) { if (device) { showDevice(device); } });
      return;
    }
    if (target.hasAttribute("data-offline-cancel")) {
      var form = target.closest("form");
      cachedDevice(form.getAttribute("data-label-code")).then(function (device) { if (device) { showDevice(device); } });
      return;
    }
    if (target.hasAttribute("data-offline-action")) {
      var card = target.closest("[data-label-code]");
      var action = target.getAttribute("data-offline-action");
      cachedDevice(card.getAttribute("data-label-code")).then(function (device) {
        if (!device) { return; }
        if (LIFE.needs_details[action]) { openForm(device, action); } else { queueMove(device, action, {}); }
      });
    }
  });

  // scan.js asks here when the server could not be reached in the middle of a request.
  window.closegapScanOffline = function (url, options) {
    var path = new URL(url, window.location.href);
    reachable = false;
    renderQueue();
    var move = path.pathname.match(/\/d\/([^/]+)\/([^/]+)\/$/);
    var card = path.pathname.match(/\/d\/([^/]+)\/$/);
    if (move && options.method === "POST" && LIFE.labels[move[2]]) {
      var fields = formFields(options.body);
      var version = Number(options.body.get("version"));
      cachedDevice(decodeURIComponent(move[1])).then(function (device) {
        if (device) { queueMove(device, move[2], fields, isNaN(version) ? undefined : version); }
      });
      return true;
    }
    var code = (move || card) ? decodeURIComponent((move || card)[1]) : path.searchParams.get("code");
    if (code) { lookUp(code); }
    return !!code;
  };

  window.addEventListener("online", goOnline);
  window.addEventListener("offline", function () { reachable = false; renderQueue(); });

  // Signing out: delete the database and caches, then send the form as is (the answer's Clear-Site-Data too).
  Array.prototype.forEach.call(document.querySelectorAll("form[action$='/logout/']"), function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (db) { db.close(); db = null; dbPromise = null; }
      var work = [new Promise(function (resolve) {
        var request = indexedDB.deleteDatabase(DB_NAME);
        request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
      })];
      if (window.caches) {
        work.push(caches.keys().then(function (names) {
          return Promise.all(names.filter(function (name) { return name.indexOf("closegap-scan-") === 0; })
            .map(function (name) { return caches.delete(name); }));
        }));
      }
      var timeout = new Promise(function (resolve) { setTimeout(resolve, 2000); });
      Promise.race([Promise.all(work), timeout]).then(function () { form.submit(); }, function () { form.submit(); });
    });
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(data("service-worker"), { scope: data("scope") })
      .catch(function () {});
  }

  // The kit (sentences, moves per state, their forms): from the server when online, else as kept last time.
  function loadKit() {
    var key = "kit-" + language;
    var fresh = online() ? fetch(data("kit-url"), { credentials: "same-origin" }).then(function (r) {
      if (!r.ok || (r.headers.get("Content-Type") || "").indexOf("text/html") !== 0) { throw new Error("kit"); }
      return r.text().then(function (html) { return metaSet(key, html).then(function () { return html; }); });
    }) : Promise.reject(new Error("offline"));
    return fresh.catch(function () { return metaGet(key); }).then(function (html) {
      if (!html) { throw new Error("no kit"); }
      var box = el("div", { hidden: "" });
      box.innerHTML = html;
      document.body.appendChild(box);
      T = JSON.parse(byId("scan-offline-strings").textContent);
      LIFE = JSON.parse(byId("scan-offline-lifecycle").textContent);
    });
  }

  // Start: whose cache this is, the kit, what waits, then talk to the server if it can be reached.
  openDb().then(function () { return metaGet("user"); }).then(function (owner) {
    if (owner !== null && owner !== userId) {
      // Another person signed in on this browser: their devices (and kit) are not this person's to see.
      return withStores(["devices", "meta", "transfers"], "readwrite", function (s) {
        s.devices.clear();
        s.meta.clear();
        s.transfers.clear();
      }).then(function () { return metaSet("user", userId); });
    }
    if (owner === null) { return metaSet("user", userId); }
  }).then(loadKit).then(devicesCount).then(renderQueue).then(renderTransfers).then(function () {
    return metaGet("outcomes");
  }).then(function (outcomes) {
    if (outcomes) { renderOutcomes(outcomes.totals, outcomes.answers); }
    root.setAttribute("data-offline-ready", "true");
    var code = new URLSearchParams(window.location.search).get("code");
    if (!online() && code && !result.querySelector("[data-scan-outcome]")) { lookUp(code); }
    if (online()) { return goOnline(); }
  }).catch(function () {
    root.setAttribute("data-offline-ready", "error");
  });
})();
