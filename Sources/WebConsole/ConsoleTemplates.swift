import Mustache

/// The console's pages, as mustache templates compiled into the binary (the container ships one file). Every
/// `{{value}}` is HTML-escaped by swift-mustache (`&`, `<`, `>`, `"`, `'`); `{{{…}}}` is used only for HTML this
/// console rendered itself. Element ids and classes are the contract of the browser tests (Tests/Browser).
enum ConsoleTemplates {
    static let layout = """
        <!DOCTYPE html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · postdesk</title>
        <link rel="stylesheet" href="/static/console.css">
        <script src="/static/console.js" defer></script>
        </head>
        <body>
        {{#agent}}
        <header><nav>
        <span class="brand">postdesk</span>
        {{#projects}}<a class="project" href="/projects/{{key}}/queue">{{key}}</a>{{/projects}}
        <span class="who">{{agent.name}}</span>
        {{#admin}}<a id="nav-admin" href="/admin/channels">{{t.admin}}</a>{{/admin}}
        <a href="/settings">{{t.settings}}</a>
        <form id="sign-out" method="post" action="/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t.signOut}}</button></form>
        </nav></header>
        {{/agent}}
        <main>
        {{{body}}}
        </main>
        </body>
        </html>
        """

    static let login = """
        <h1>{{t.signInTitle}}</h1>
        {{#error}}<p class="error" id="login-error">{{error}}</p>{{/error}}
        <form id="login" method="post" action="/login">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>{{t.email}} <input id="email" name="email" type="email" autocomplete="username" required value="{{email}}"></label>
        <label>{{t.password}} <input id="password" name="password" type="password" autocomplete="current-password" required></label>
        <button id="sign-in" type="submit">{{t.signIn}}</button>
        </form>
        """

    static let queue = """
        <h1 id="queue-title">{{projectName}} — {{t.queue}}</h1>
        <nav class="filters">{{#filters}}<a class="filter{{#current}} current{{/current}}" data-filter="{{id}}" href="/projects/{{projectKey}}/queue?filter={{id}}">{{label}}</a> {{/filters}}</nav>
        <form id="search" method="get" action="/projects/{{projectKey}}/queue">
        <input type="hidden" name="filter" value="{{filter}}">
        <input id="search-text" name="q" value="{{query}}" placeholder="{{t.search}}">
        <button type="submit">{{t.search}}</button>
        </form>
        <table id="queue" data-rows="{{rowsURL}}">
        <thead><tr><th>{{t.key}}</th><th>{{t.summary}}</th><th>{{t.status}}</th><th>{{t.reporter}}</th><th>{{t.assignee}}</th><th>{{t.updated}}</th></tr></thead>
        <tbody id="queue-rows">{{{rows}}}</tbody>
        </table>
        """

    static let rows = """
        {{#items}}<tr class="request" data-key="{{key}}"><td class="key"><a href="/requests/{{key}}">{{key}}</a></td><td class="summary">{{summary}}</td><td class="status">{{status}}</td><td class="reporter">{{reporter}}</td><td class="assignee">{{assignee}}</td><td class="updated">{{updated}}</td></tr>{{/items}}{{^items}}<tr class="empty"><td colspan="6">{{t.empty}}</td></tr>{{/items}}
        """

    static let request = """
        <p class="crumbs"><a href="/projects/{{projectKey}}/queue">{{projectKey}}</a> / {{key}}</p>
        <h1 id="summary">{{summary}}</h1>
        <dl class="meta">
        <dt>{{t.status}}</dt><dd id="status">{{status}}</dd>
        <dt>{{t.reporter}}</dt><dd id="reporter">{{reporter}}</dd>
        <dt>{{t.assignee}}</dt><dd id="assignee">{{assignee}}</dd>
        </dl>
        <h2>{{t.attachments}}</h2>
        <ul id="attachments">{{#attachments}}<li><a class="attachment" href="/attachments/{{id}}" download>{{filename}}</a> <span class="size">{{size}}</span></li>{{/attachments}}</ul>
        <h2>{{t.thread}}</h2>
        <ol id="thread">
        {{#entries}}<li class="comment{{#internal}} internal{{/internal}}" data-source="{{source}}">
        <p class="by">{{author}} · {{created}}{{#internal}} · <span class="badge">{{t.internalLabel}}</span>{{/internal}}</p>
        <div class="body">{{visible}}</div>
        {{#quoted}}<details><summary>{{t.quoted}}</summary><div class="quoted">{{quoted}}</div></details>{{/quoted}}
        </li>
        {{/entries}}
        </ol>
        <form id="reply" method="post" action="/requests/{{key}}/comments">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <textarea id="reply-body" name="body" rows="6" required></textarea>
        <select id="reply-kind" name="kind"><option value="public" selected>{{t.replyToCustomer}}</option><option value="internal">{{t.internalNote}}</option></select>
        <button id="reply-send" type="submit">{{t.send}}</button>
        </form>
        <form id="update" method="post" action="/requests/{{key}}/update">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>{{t.status}} <select id="update-status" name="status">{{#statuses}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/statuses}}</select></label>
        <label>{{t.assignee}} <select id="update-assignee" name="assignee"><option value="">{{t.unassigned}}</option>{{#agents}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/agents}}</select></label>
        <button id="update-send" type="submit">{{t.update}}</button>
        </form>
        """

    static let password = """
        <h1>{{t.setPassword}}</h1>
        {{#error}}<p class="error" id="password-error">{{error}}</p>{{/error}}
        {{#valid}}
        <form id="set-password" method="post" action="/password/{{token}}">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>{{t.newPassword}} <input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="10"></label>
        <label>{{t.repeatPassword}} <input id="repeat-password" name="repeat" type="password" autocomplete="new-password" required minlength="10"></label>
        <button id="set-password-send" type="submit">{{t.save}}</button>
        </form>
        {{/valid}}
        """

    static let settings = """
        <h1>{{t.settings}}</h1>
        <form id="settings" method="post" action="/settings">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>{{t.language}} <select id="locale" name="locale">{{#locales}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/locales}}</select></label>
        <button id="settings-save" type="submit">{{t.save}}</button>
        </form>
        """

    static let empty = """
        <p id="no-projects">{{t.noProjects}}</p>
        """

    static let adminNav = """
        <nav class="admin-sections">{{#sections}}<a class="section{{#current}} current{{/current}}" data-section="{{id}}" href="{{href}}">{{label}}</a> {{/sections}}</nav>
        """

    static let adminOnly = """
        <h1>403</h1>
        <p class="error" id="admin-only">{{t.adminOnly}}</p>
        """

    static let adminChannels = """
        {{> adminNav}}
        <h1>{{t.channels}}</h1>
        <table id="channels">
        <thead><tr><th>{{t.address}}</th><th>{{t.project}}</th><th>{{t.protocolLabel}}</th><th>{{t.state}}</th><th>{{t.detail}}</th><th>{{t.lastCheck}}</th><th>{{t.processedToday}}</th><th></th></tr></thead>
        <tbody>
        {{#channels}}<tr class="channel" data-address="{{address}}">
        <td class="address">{{address}}</td><td class="project">{{project}}</td><td class="protocol">{{protocol}} <span class="server">{{server}}</span></td>
        <td class="state{{#failing}} failing{{/failing}}" data-state="{{state}}">{{state}}</td>
        <td class="detail">{{detail}}{{#lastError}}<div class="last-error">{{t.lastError}}: {{lastError}}</div>{{/lastError}}{{#retryAt}}<div class="retry-at">{{t.retryAt}}: {{retryAt}}</div>{{/retryAt}}</td>
        <td class="last-check">{{lastCheck}}</td><td class="processed">{{processedToday}}</td>
        <td class="actions"><form class="channel-test" method="post" action="/admin/channels/{{path}}/test"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t.test}}</button></form>
        <form class="channel-verify" method="post" action="/admin/channels/{{path}}/verify"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t.verify}}</button></form></td>
        </tr>
        {{/channels}}
        {{^channels}}<tr class="empty"><td colspan="8">{{t.noChannels}}</td></tr>{{/channels}}
        </tbody>
        </table>
        """

    static let adminRun = """
        {{> adminNav}}
        <p class="crumbs"><a href="/admin/channels">{{t.channels}}</a> / {{address}}</p>
        <h1 id="run-title">{{heading}}: {{address}}</h1>
        {{#events}}
        <ol id="run-steps" data-events="{{events}}"></ol>
        <p id="run-notes" class="note"></p>
        <div id="run-result" class="pending" data-lost="{{t.runLost}}" data-server-said="{{t.serverSaid}}" data-diagnosis="{{t.diagnosis}}" data-fix="{{t.fix}}" data-advice="{{t.advice}}" data-request="{{t.request}}">{{t.running}}</div>
        {{/events}}
        <form id="run-start" method="post" action="/admin/channels/{{path}}/{{kind}}">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit">{{#events}}{{t.runAgain}}{{/events}}{{^events}}{{start}}{{/events}}</button>
        </form>
        """

    static let adminLog = """
        {{> adminNav}}
        <h1>{{t.processingLog}}</h1>
        <form id="log-filter" method="get" action="/admin/log">
        <label>{{t.channel}} <select id="log-channel" name="channel"><option value="">{{t.all}}</option>{{#channels}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/channels}}</select></label>
        <label>{{t.outcome}} <select id="log-outcome" name="outcome"><option value="">{{t.all}}</option>{{#outcomes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{value}}</option>{{/outcomes}}</select></label>
        <label>{{t.sender}} <input id="log-sender" name="sender" value="{{sender}}"></label>
        <label>{{t.since}} <input id="log-since" name="since" value="{{since}}" placeholder="yyyy-mm-dd"></label>
        <label>{{t.until}} <input id="log-until" name="until" value="{{until}}" placeholder="yyyy-mm-dd"></label>
        <button type="submit">{{t.filter}}</button>
        </form>
        <table id="log">
        <thead><tr><th>{{t.time}}</th><th>{{t.channel}}</th><th>{{t.sender}}</th><th>{{t.subject}}</th><th>{{t.outcome}}</th><th>{{t.request}}</th><th>{{t.detail}}</th><th>{{t.attempts}}</th><th></th></tr></thead>
        <tbody>
        {{#lines}}<tr class="line" data-outcome="{{outcome}}"{{#inbound}} data-inbound="{{inbound}}"{{/inbound}}>
        <td class="time">{{time}}</td><td class="channel">{{channel}}</td><td class="from">{{from}}</td><td class="subject">{{subject}}</td>
        <td class="outcome">{{outcome}}</td><td class="request">{{#request}}<a href="/requests/{{request}}">{{request}}</a>{{/request}}</td>
        <td class="detail">{{detail}}{{#notes}}<div class="note">{{line}}</div>{{/notes}}</td><td class="attempts">{{attempts}}</td>
        <td class="actions">{{#retry}}<form class="log-retry" method="post" action="/admin/log/retry"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="id" value="{{inbound}}"><input type="hidden" name="back" value="{{back}}"><button type="submit">{{t.retry}}</button></form>{{/retry}}{{#release}}<form class="log-release" method="post" action="/admin/log/release"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="id" value="{{inbound}}"><input type="hidden" name="back" value="{{back}}"><button type="submit">{{t.release}}</button></form>{{/release}}</td>
        </tr>
        {{/lines}}
        {{^lines}}<tr class="empty"><td colspan="9">{{t.noLog}}</td></tr>{{/lines}}
        </tbody>
        </table>
        <nav class="pages">{{#newer}}<a id="log-newer" href="{{newer}}">{{t.newer}}</a>{{/newer}} <span class="page">{{page}}</span> {{#older}}<a id="log-older" href="{{older}}">{{t.older}}</a>{{/older}}</nav>
        """

    static let adminProjects = """
        <nav class="projects">{{#projects}}<a class="project{{#current}} current{{/current}}" href="{{href}}">{{key}}</a> {{/projects}}</nav>
        """

    static let adminCustomers = """
        {{> adminNav}}
        <h1>{{t.customers}}</h1>
        {{> adminProjects}}
        {{#project}}
        <p id="signup">{{t.signup}}: {{signup}}{{#restricted}} — {{t.restrictedHelp}}{{/restricted}}</p>
        <table id="customers">
        <thead><tr><th>{{t.address}}</th><th>{{t.name}}</th></tr></thead>
        <tbody>{{#customers}}<tr class="customer"><td class="address">{{address}}</td><td class="name">{{name}}</td></tr>{{/customers}}{{^customers}}<tr class="empty"><td colspan="2">{{t.noCustomers}}</td></tr>{{/customers}}</tbody>
        </table>
        <form id="customer-add" method="post" action="/admin/customers/add">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="project" value="{{key}}">
        <label>{{t.address}} <input id="customer-address" name="address" type="email" required></label>
        <label>{{t.name}} <input id="customer-name" name="name"></label>
        <button type="submit">{{t.addCustomer}}</button>
        </form>
        <h2>{{t.lists}}</h2>
        <p>{{t.listsHelp}}</p>
        <table id="rules">
        <thead><tr><th>{{t.list}}</th><th>{{t.pattern}}</th><th></th></tr></thead>
        <tbody>{{#rules}}<tr class="rule" data-kind="{{kind}}"><td class="kind">{{kind}}</td><td class="pattern">{{pattern}}</td>
        <td><form class="rule-remove" method="post" action="/admin/customers/rules/remove"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="project" value="{{key}}"><input type="hidden" name="kind" value="{{kind}}"><input type="hidden" name="pattern" value="{{pattern}}"><button type="submit">{{t.remove}}</button></form></td></tr>{{/rules}}
        {{^rules}}<tr class="empty"><td colspan="3">{{t.noRules}}</td></tr>{{/rules}}</tbody>
        </table>
        <form id="rule-add" method="post" action="/admin/customers/rules/add">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="project" value="{{key}}">
        <label>{{t.list}} <select id="rule-kind" name="kind">{{#kinds}}<option value="{{value}}">{{value}}</option>{{/kinds}}</select></label>
        <label>{{t.pattern}} <input id="rule-pattern" name="pattern" required></label>
        <button type="submit">{{t.add}}</button>
        </form>
        {{/project}}
        {{^project}}<p>{{t.noProjects}}</p>{{/project}}
        """

    static let adminRequestTypes = """
        {{> adminNav}}
        <h1>{{t.requestTypes}}</h1>
        {{> adminProjects}}
        {{#project}}
        <table id="request-types">
        <thead><tr><th>{{t.name}}</th><th>{{t.fields}}</th><th>{{t.emailLabel}}</th></tr></thead>
        <tbody>{{#types}}<tr class="request-type"><td class="name">{{name}}</td><td class="fields">{{#fields}}<code>{{spec}}</code> {{/fields}}</td><td class="email">{{#problem}}<span class="error">{{problem}}</span>{{/problem}}{{^problem}}{{t.emailOk}}{{/problem}}</td></tr>{{/types}}
        {{^types}}<tr class="empty"><td colspan="3">{{t.noRequestTypes}}</td></tr>{{/types}}</tbody>
        </table>
        <form id="request-type-add" method="post" action="/admin/request-types/add">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="project" value="{{key}}">
        <label>{{t.name}} <input id="request-type-name" name="name" required></label>
        <label>{{t.fieldsHelp}} <textarea id="request-type-fields" name="fields" rows="4">{{defaultFields}}</textarea></label>
        <button type="submit">{{t.addRequestType}}</button>
        </form>
        {{/project}}
        {{^project}}<p>{{t.noProjects}}</p>{{/project}}
        """

    static let adminRelay = """
        {{> adminNav}}
        <h1>{{t.relay}}</h1>
        {{#settings}}
        <dl id="relay-settings" class="meta">
        <dt>{{t.host}}</dt><dd id="relay-host">{{host}}:{{port}}</dd>
        <dt>TLS</dt><dd id="relay-tls">{{tls}}</dd>
        <dt>{{t.from}}</dt><dd id="relay-from">{{from}}</dd>
        <dt>{{t.username}}</dt><dd id="relay-username">{{username}}{{#authMethod}} ({{authMethod}}){{/authMethod}}</dd>
        {{#caFile}}<dt>CA</dt><dd>{{caFile}}</dd>{{/caFile}}
        </dl>
        <form id="relay-test" method="post" action="/admin/relay/test"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">{{t.sendTest}}</button></form>
        {{/settings}}
        {{^settings}}<p id="relay-unset">{{t.relayUnset}}</p>{{/settings}}
        {{#status}}
        <h2>{{t.state}}</h2>
        <dl id="relay-status" class="meta">
        <dt>{{t.state}}</dt><dd id="relay-state" data-state="{{state}}">{{state}}{{#since}} ({{since}}){{/since}}</dd>
        <dt>{{t.lastDelivery}}</dt><dd>{{lastDelivery}}</dd>
        <dt>{{t.failures}}</dt><dd>{{failures}}</dd>
        {{#retryAt}}<dt>{{t.retryAt}}</dt><dd>{{retryAt}}</dd>{{/retryAt}}
        {{#serverText}}<dt>{{t.serverSaid}}</dt><dd class="server-text">{{serverText}}</dd>{{/serverText}}
        {{#diagnosis}}<dt>{{t.diagnosis}}</dt><dd>{{diagnosis}}</dd>{{/diagnosis}}
        {{#fix}}<dt>{{t.fix}}</dt><dd>{{fix}}</dd>{{/fix}}
        </dl>
        {{/status}}
        {{#outbox}}<p id="relay-outbox">{{t.outbox}}: {{pending}} {{t.pending}}, {{due}} {{t.due}}, {{failed}} {{t.failedLabel}}</p>{{/outbox}}
        {{#report}}
        <h2>{{t.testReport}}</h2>
        <ol id="relay-report" class="steps">{{#steps}}<li class="step {{#ok}}ok{{/ok}}{{^ok}}failed{{/ok}}">{{#ok}}✓{{/ok}}{{^ok}}✗{{/ok}} {{name}}{{#detail}}: {{detail}}{{/detail}}</li>{{/steps}}</ol>
        {{#serverText}}<p class="server-text">{{t.serverSaid}}: {{serverText}}</p>{{/serverText}}
        {{#diagnosis}}<p>{{t.diagnosis}}: {{diagnosis}}</p>{{/diagnosis}}
        {{#fix}}<p>{{t.fix}}: {{fix}}</p>{{/fix}}
        {{#advice}}<p class="advice">{{text}}</p>{{/advice}}
        {{/report}}
        """

    /// The compiled templates; a template that does not parse is a programming error caught by the tests.
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in [
            ("layout", layout), ("login", login), ("queue", queue), ("rows", rows), ("request", request),
            ("password", password), ("settings", settings), ("empty", empty), ("adminNav", adminNav),
            ("adminOnly", adminOnly), ("adminChannels", adminChannels), ("adminRun", adminRun), ("adminLog", adminLog),
            ("adminProjects", adminProjects), ("adminCustomers", adminCustomers),
            ("adminRequestTypes", adminRequestTypes), ("adminRelay", adminRelay),
        ] {
            try library.register(text, named: name)
        }
        return library
    }
}

/// The console's script and style sheet, served from `/static/` (the Content-Security-Policy allows no inline
/// script or style).
enum ConsoleAssets {
    /// Keeps the queue current without a reload: every 2 s it fetches the rows of the same view and puts them in.
    static let script = """
        "use strict";
        // A test or verification on an admin page: its steps arrive by server-sent events and are shown as text
        // (textContent, never markup: the mail server's words are hostile like customer mail).
        (function () {
          var list = document.getElementById("run-steps");
          if (!list || !window.EventSource) { return; }
          var result = document.getElementById("run-result");
          var notes = document.getElementById("run-notes");
          var ended = false;
          var source = new EventSource(list.getAttribute("data-events"));
          function line(parent, tag, className, text) {
            var element = document.createElement(tag);
            if (className) { element.className = className; }
            element.textContent = text;
            parent.appendChild(element);
            return element;
          }
          source.addEventListener("step", function (event) {
            var step = JSON.parse(event.data);
            line(list, "li", "step " + (step.ok ? "ok" : "failed"),
              (step.ok ? "\\u2713 " : "\\u2717 ") + step.name + (step.detail ? ": " + step.detail : ""));
          });
          source.addEventListener("note", function (event) {
            notes.textContent = JSON.parse(event.data).text;
          });
          source.addEventListener("end", function (event) {
            ended = true;
            source.close();
            var end = JSON.parse(event.data);
            notes.textContent = "";
            result.className = end.ok ? "ok" : "failed";
            result.textContent = "";
            line(result, "p", "summary", end.summary);
            if (end.serverText) { line(result, "p", "server-text", result.getAttribute("data-server-said") + ": " + end.serverText); }
            if (end.diagnosis) { line(result, "p", "diagnosis", result.getAttribute("data-diagnosis") + ": " + end.diagnosis); }
            if (end.fix) { line(result, "p", "fix", result.getAttribute("data-fix") + ": " + end.fix); }
            (end.advice || []).forEach(function (text) {
              line(result, "p", "advice", result.getAttribute("data-advice") + ": " + text);
            });
            if (end.request) {
              var link = line(result, "a", "request", result.getAttribute("data-request") + " " + end.request);
              link.href = "/requests/" + encodeURIComponent(end.request);
            }
          });
          source.onerror = function () {
            if (ended) { return; }
            source.close();
            result.className = "failed";
            result.textContent = result.getAttribute("data-lost");
          };
        })();
        (function () {
          var table = document.getElementById("queue");
          if (!table) { return; }
          var rows = document.getElementById("queue-rows");
          var url = table.getAttribute("data-rows");
          var last = rows.innerHTML;
          function refresh() {
            fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
              .then(function (answer) { return answer.ok ? answer.text() : null; })
              .then(function (html) {
                if (html !== null && html !== last) { rows.innerHTML = html; last = html; }
              })
              .catch(function () {})
              .finally(function () { window.setTimeout(refresh, 2000); });
          }
          window.setTimeout(refresh, 2000);
        })();
        """

    static let style = """
        body { font-family: system-ui, sans-serif; margin: 0; color: #1d2430; }
        header nav { display: flex; gap: 1em; align-items: center; padding: .6em 1em; background: #24344d; color: #fff; }
        header a, header button { color: #fff; }
        header .who { margin-left: auto; }
        header form { display: inline; }
        main { padding: 1em 2em; max-width: 70em; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #dde3ea; }
        .filters a { margin-right: .8em; }
        .filters a.current { font-weight: bold; }
        #thread { list-style: none; padding: 0; }
        #thread li { border: 1px solid #dde3ea; border-radius: 4px; margin: .6em 0; padding: .6em .9em; }
        #thread li.internal { background: #fff7d6; }
        .body, .quoted { white-space: pre-wrap; overflow-wrap: anywhere; }
        .quoted { color: #5a6472; }
        .error { color: #a3161a; }
        .badge { background: #e2b203; padding: 0 .4em; border-radius: 3px; }
        form#reply textarea { width: 100%; box-sizing: border-box; }
        label { display: block; margin: .4em 0; }
        .admin-sections a { margin-right: .8em; }
        .admin-sections a.current, .projects a.current { font-weight: bold; }
        td.actions form { display: inline; }
        .state.failing, .step.failed, #run-result.failed, .last-error { color: #a3161a; }
        .step.ok, #run-result.ok { color: #1d6b2f; }
        #run-steps { list-style: none; padding: 0; }
        .note, .server-text { color: #5a6472; white-space: pre-wrap; overflow-wrap: anywhere; }
        td.detail, td.subject, td.from { overflow-wrap: anywhere; }
        """
}
