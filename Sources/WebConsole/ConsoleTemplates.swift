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

    /// The compiled templates; a template that does not parse is a programming error caught by the tests.
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in [
            ("layout", layout), ("login", login), ("queue", queue), ("rows", rows), ("request", request),
            ("password", password), ("settings", settings), ("empty", empty),
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
        """
}
