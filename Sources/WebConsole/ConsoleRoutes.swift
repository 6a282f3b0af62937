import EmailChannel
import Foundation
import Hummingbird
import HummingbirdBcrypt
import Logging
import MailMessage
import Mustache
import ServiceDesk

/// The console's pages and form posts. Pages need a signed-in agent (else `/login`); every post checks the
/// session's CSRF token (403 without it, nothing stored); customer text is always escaped by the templates.
struct ConsoleRoutes: Sendable {
    let store: DeskStore
    let notifier: Notifier?
    let sessions: ConsoleSessions
    let throttle: LoginThrottle
    let library: MustacheLibrary
    let logger: Logger
    /// The running server's parts the admin pages use.
    let admin: ConsoleAdminServices
    /// Started tests and verifications, until their event stream is opened.
    let runs: ConsoleRuns

    var network: ConsoleNetwork { sessions.network }

    func register(on router: Router<ConsoleContext>) {
        router.get("/") { request, context in try await home(request, context) }
        router.get("/login") { request, context in try await loginPage(request, context) }
        router.post("/login") { request, context in try await login(request, context) }
        router.post("/logout") { request, context in try await logout(request, context) }
        router.get("/projects/:key/queue") { request, context in try await queuePage(request, context) }
        router.get("/projects/:key/queue/rows") { request, context in try await queueRows(request, context) }
        router.get("/requests/:key") { request, context in try await requestPage(request, context) }
        router.post("/requests/:key/comments") { request, context in try await comment(request, context) }
        router.post("/requests/:key/update") { request, context in try await update(request, context) }
        router.get("/attachments/:id") { request, context in try await attachment(request, context) }
        router.get("/password/:token") { request, context in try await passwordPage(request, context) }
        router.post("/password/:token") { request, context in try await setPassword(request, context) }
        router.get("/settings") { request, context in try await settingsPage(request, context) }
        router.post("/settings") { request, context in try await saveSettings(request, context) }
        registerAdmin(on: router)
        router.get("/static/console.js") { _, _ in asset(ConsoleAssets.script, type: "text/javascript; charset=utf-8") }
        router.get("/static/console.css") { _, _ in asset(ConsoleAssets.style, type: "text/css; charset=utf-8") }
    }

    // MARK: Sign-in

    private func home(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return redirect("/login") }
        guard let first = try await store.projects().first else {
            return try await page("empty", title: "postdesk", request, signedIn, [:])
        }
        return redirect("/projects/\(first.key)/queue")
    }

    private func loginPage(
        _ request: Request, _ context: ConsoleContext, error: String? = nil, email: String = "",
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        if error == nil, try await sessions.signedIn(request) != nil { return redirect("/") }
        let token = ConsoleSessions.randomToken()
        let locale = ConsoleLocale.choose(agent: nil, acceptLanguage: request.headers[.acceptLanguage])
        var response = render(
            "login", title: ConsoleText.signIn.text(locale), locale: locale, signedIn: nil, projects: [],
            ["csrf": token, "error": error as Any, "email": email], status: status)
        response.setCookie(
            sessions.cookie(
                ConsoleSessions.loginCookieName, token, maxAge: 3600, secure: network.isSecure(request, context)))
        return response
    }

    private struct LoginForm: Decodable {
        var email: String
        var password: String
        var csrf: String?
    }

    private func login(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let form = try await decode(LoginForm.self, request)
        guard let cookie = request.cookies[ConsoleSessions.loginCookieName]?.value,
            ConsoleSessions.same(cookie, form.csrf ?? "")
        else { return forbidden() }
        let locale = ConsoleLocale.choose(agent: nil, acceptLanguage: request.headers[.acceptLanguage])
        let email = form.email.trimmingCharacters(in: .whitespaces).lowercased()
        let keys = ["email:" + email, "client:" + network.client(request, context)]
        if await throttle.isBlocked(keys) {
            return try await loginPage(
                request, context, error: ConsoleText.tooManyAttempts.text(locale), email: form.email,
                status: .tooManyRequests)
        }
        let found = email.count <= 320 ? try await store.agentLogin(email: email) : nil
        // A wrong address costs as long as a wrong password: the answer's timing tells nothing.
        let hash = found?.passwordHash ?? Self.decoyHash
        let password = String(form.password.prefix(1024))
        let matches = try await AgentPassword.verify(password, hash: hash)
        guard matches, let agent = found?.agent, found?.passwordHash != nil, !agent.disabled else {
            await throttle.fail(keys)
            logger.info("console sign-in refused", metadata: ["client": "\(network.client(request, context))"])
            return try await loginPage(
                request, context, error: ConsoleText.badLogin.text(locale), email: form.email, status: .unauthorized)
        }
        await throttle.succeed(keys)
        let secure = network.isSecure(request, context)
        var response = redirect("/")
        response.setCookie(try await sessions.start(for: agent, secure: secure))
        response.setCookie(sessions.cookie(ConsoleSessions.loginCookieName, "", maxAge: 0, secure: secure))
        return response
    }

    /// A bcrypt hash of a random string, verified against when the address is unknown.
    private static let decoyHash = Bcrypt.hash(ConsoleSessions.randomToken(), cost: AgentPassword.cost)

    private struct CSRFForm: Decodable { var csrf: String? }

    private func logout(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return redirect("/login") }
        let form = try await decode(CSRFForm.self, request)
        guard ConsoleSessions.same(signedIn.csrf, form.csrf ?? "") else { return forbidden() }
        var response = redirect("/login")
        response.setCookie(try await sessions.end(request, secure: network.isSecure(request, context)))
        return response
    }

    // MARK: Queue

    private func queueView(_ request: Request, _ context: ConsoleContext, _ signedIn: SignedIn) async throws
        -> (project: Project, filter: QueueFilter, query: String, items: [[String: Any]], locale: ConsoleLocale)
    {
        let key = try context.parameters.require("key").uppercased()
        guard let project = try await store.projects().first(where: { $0.key == key }) else {
            throw DeskError(.notFound, "no project \(key)")
        }
        let filter = request.uri.queryParameters.get("filter").flatMap(QueueFilter.init(rawValue:)) ?? .open
        let query = String((request.uri.queryParameters.get("q") ?? "").prefix(200))
        let locale = locale(signedIn, request)
        let items = try await store.consoleQueue(
            projectKey: key, filter: filter, agentId: signedIn.agent.id, search: query.isEmpty ? nil : query
        ).map { item -> [String: Any] in
            [
                "key": item.key, "summary": item.summary, "status": item.status.label(locale),
                "reporter": item.reporter, "assignee": item.assignee ?? "", "updated": Self.time(item.updatedAt),
            ]
        }
        return (project, filter, query, items, locale)
    }

    private func queuePage(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return redirect("/login") }
        let view = try await queueView(request, context, signedIn)
        let t = ConsoleText.table(view.locale)
        let rows = library.render(["items": view.items, "t": t], withTemplate: "rows") ?? ""
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "filter", value: view.filter.rawValue)]
        if !view.query.isEmpty { components.queryItems?.append(URLQueryItem(name: "q", value: view.query)) }
        let labels: [QueueFilter: ConsoleText] = [
            .open: .filterOpen, .support: .filterSupport, .customer: .filterCustomer, .mine: .filterMine,
            .unassigned: .filterUnassigned,
        ]
        let filters = QueueFilter.allCases.map { filter -> [String: Any] in
            [
                "id": filter.rawValue, "label": labels[filter]?.text(view.locale) ?? filter.rawValue,
                "current": filter == view.filter,
            ]
        }
        return try await page(
            "queue", title: "\(view.project.key) — \(ConsoleText.queue.text(view.locale))", request, signedIn,
            [
                "projectKey": view.project.key, "projectName": view.project.name, "filters": filters,
                "filter": view.filter.rawValue, "query": view.query, "rows": rows,
                "rowsURL": "/projects/\(view.project.key)/queue/rows"
                    + (components.percentEncodedQuery.map { "?" + $0 } ?? ""),
            ])
    }

    private func queueRows(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return Response(status: .unauthorized) }
        let view = try await queueView(request, context, signedIn)
        let rows =
            library.render(["items": view.items, "t": ConsoleText.table(view.locale)], withTemplate: "rows") ?? ""
        return html(rows)
    }

    // MARK: Requests

    private func requestPage(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return redirect("/login") }
        let found = try await store.consoleRequest(key: try context.parameters.require("key"))
        let locale = locale(signedIn, request)
        let service = found.request
        var entries: [[String: Any]] = [
            Self.entry(
                author: service.reporter, body: service.description, source: "email", isInternal: false,
                created: service.createdAt)
        ]
        var attachments = found.attachments
        for comment in found.comments {
            entries.append(
                Self.entry(
                    author: comment.author, body: comment.body, source: comment.source.rawValue,
                    isInternal: !comment.isPublic, created: comment.createdAt))
            attachments += comment.attachments
        }
        let agents = try await store.agents().filter { !$0.disabled }.map { agent -> [String: Any] in
            ["id": String(agent.id), "name": agent.name, "selected": agent.id == found.assignee?.id]
        }
        let statuses = [RequestStatus.waitingForSupport, .waitingForCustomer, .resolved].map {
            status -> [String: Any] in
            ["value": status.rawValue, "label": status.label(locale), "selected": status == service.status]
        }
        return try await page(
            "request", title: "\(service.key) \(service.summary)", request, signedIn,
            [
                "projectKey": found.projectKey, "key": service.key, "summary": service.summary,
                "status": service.status.label(locale), "reporter": service.reporter,
                "assignee": found.assignee?.name ?? ConsoleText.unassigned.text(locale),
                "attachments": attachments.map {
                    ["id": String($0.id), "filename": $0.filename, "size": Self.size($0.size)]
                },
                "entries": entries, "agents": agents, "statuses": statuses,
            ])
    }

    /// One entry of the thread: what the author wrote, and the quoted part (earlier mail) folded away.
    static func entry(author: String, body: String, source: String, isInternal: Bool, created: Date) -> [String: Any] {
        let visible = QuoteStripper.strip(body)
        let quoted = visible == body ? nil : body
        return [
            "author": author, "visible": visible.isEmpty ? body : visible, "quoted": quoted as Any,
            "source": source, "internal": isInternal, "created": time(created),
        ]
    }

    private struct CommentForm: Decodable {
        var csrf: String?
        var body: String
        var kind: String?
    }

    private func comment(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return forbidden() }
        let form = try await decode(CommentForm.self, request)
        guard ConsoleSessions.same(signedIn.csrf, form.csrf ?? "") else { return forbidden() }
        let key = try context.parameters.require("key")
        let result = try await store.addAgentComment(
            requestKey: key, author: signedIn.agent.email, body: form.body, isPublic: form.kind != "internal")
        if result.notification != nil { await notifier?.ring() }
        return redirect("/requests/\(key.uppercased())")
    }

    private struct UpdateForm: Decodable {
        var csrf: String?
        var status: String?
        var assignee: String?
    }

    private func update(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return forbidden() }
        let form = try await decode(UpdateForm.self, request)
        guard ConsoleSessions.same(signedIn.csrf, form.csrf ?? "") else { return forbidden() }
        let key = try context.parameters.require("key")
        if let text = form.status {
            guard let status = RequestStatus(rawValue: text) else { throw DeskError(.invalid, "unknown status") }
            if try await store.setRequestStatus(key: key, status: status) { await notifier?.ring() }
        }
        if let assignee = form.assignee {
            try await store.assignRequest(key: key, agentId: assignee.isEmpty ? nil : Int64(assignee))
        }
        return redirect("/requests/\(key.uppercased())")
    }

    /// An attachment, always as a download of opaque bytes: a hostile HTML or SVG file never renders in the console.
    private func attachment(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard try await sessions.signedIn(request) != nil else { return Response(status: .unauthorized) }
        guard let id = Int64(try context.parameters.require("id")) else { throw DeskError(.notFound, "no attachment") }
        let (info, url) = try await store.attachment(id: id)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw DeskError(.notFound, "the attachment's file is missing")
        }
        var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(data: data)))
        response.headers[.contentType] = "application/octet-stream"
        response.headers[.contentDisposition] = Self.disposition(info.filename)
        return response
    }

    /// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266 §4.3): an ASCII fallback without quotes or
    /// controls, and the name percent-encoded.
    static func disposition(_ filename: String) -> String {
        let fallback = String(
            filename.unicodeScalars.prefix(200).map { scalar -> Character in
                scalar.isASCII && scalar.value >= 0x20 && scalar != "\"" && scalar != "\\" && scalar.value != 0x7F
                    ? Character(scalar) : "_"
            })
        let encoded =
            filename.prefix(200).addingPercentEncoding(
                withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~")))
            ?? "attachment"
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }

    // MARK: Password and settings

    private func passwordPage(
        _ request: Request, _ context: ConsoleContext, error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let token = try context.parameters.require("token")
        let csrf = ConsoleSessions.randomToken()
        let locale = ConsoleLocale.choose(agent: nil, acceptLanguage: request.headers[.acceptLanguage])
        let valid =
            token.count <= 64
            ? try await store.passwordSetupAgent(tokenHash: ConsoleSessions.hash(token), now: Date()) != nil : false
        let shown: String? = error ?? (valid ? nil : ConsoleText.linkExpired.text(locale))
        var response = render(
            "password", title: ConsoleText.setPassword.text(locale), locale: locale, signedIn: nil, projects: [],
            ["csrf": csrf, "token": token, "valid": valid, "error": shown as Any], status: valid ? status : .gone)
        response.setCookie(
            sessions.cookie(
                ConsoleSessions.loginCookieName, csrf, maxAge: 3600, secure: network.isSecure(request, context)))
        return response
    }

    private struct PasswordForm: Decodable {
        var csrf: String?
        var password: String
        var repeated: String

        enum CodingKeys: String, CodingKey {
            case csrf, password
            case repeated = "repeat"
        }
    }

    private func setPassword(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let form = try await decode(PasswordForm.self, request)
        guard let cookie = request.cookies[ConsoleSessions.loginCookieName]?.value,
            ConsoleSessions.same(cookie, form.csrf ?? "")
        else { return forbidden() }
        let locale = ConsoleLocale.choose(agent: nil, acceptLanguage: request.headers[.acceptLanguage])
        guard form.password == form.repeated else {
            return try await passwordPage(
                request, context, error: ConsoleText.passwordsDiffer.text(locale), status: .badRequest)
        }
        guard form.password.count >= AgentPassword.minimumLength else {
            return try await passwordPage(
                request, context, error: ConsoleText.passwordTooShort.text(locale), status: .badRequest)
        }
        do {
            try AgentPassword.check(form.password)
        } catch let error as DeskError {
            return try await passwordPage(request, context, error: error.message, status: .badRequest)
        }
        let token = try context.parameters.require("token")
        guard let agent = try await store.consumePasswordSetup(tokenHash: ConsoleSessions.hash(token), now: Date())
        else {
            return try await passwordPage(request, context, error: ConsoleText.linkExpired.text(locale), status: .gone)
        }
        let hash = try await AgentPassword.hash(form.password)
        try await store.setAgentPassword(agentId: agent.id, passwordHash: hash)
        var response = redirect("/")
        response.setCookie(try await sessions.start(for: agent, secure: network.isSecure(request, context)))
        return response
    }

    private func settingsPage(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return redirect("/login") }
        let locale = locale(signedIn, request)
        var choices: [[String: Any]] = [
            ["value": "", "label": ConsoleText.automatic.text(locale), "selected": signedIn.agent.locale == nil]
        ]
        choices += [(ConsoleLocale.en, "English"), (.ja, "日本語")].map { choice, label in
            ["value": choice.rawValue, "label": label, "selected": signedIn.agent.locale == choice]
        }
        return try await page(
            "settings", title: ConsoleText.settings.text(locale), request, signedIn, ["locales": choices])
    }

    private struct SettingsForm: Decodable {
        var csrf: String?
        var locale: String?
    }

    private func saveSettings(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else { return forbidden() }
        let form = try await decode(SettingsForm.self, request)
        guard ConsoleSessions.same(signedIn.csrf, form.csrf ?? "") else { return forbidden() }
        try await store.setAgentLocale(
            agentId: signedIn.agent.id, locale: form.locale.flatMap(ConsoleLocale.init(rawValue:)))
        return redirect("/settings")
    }

    // MARK: Rendering

    func locale(_ signedIn: SignedIn, _ request: Request) -> ConsoleLocale {
        ConsoleLocale.choose(agent: signedIn.agent.locale, acceptLanguage: request.headers[.acceptLanguage])
    }

    func page(
        _ template: String, title: String, _ request: Request, _ signedIn: SignedIn,
        _ values: [String: Any]
    ) async throws -> Response {
        let projects = try await store.projects().map { ["key": $0.key] }
        return render(
            template, title: title, locale: locale(signedIn, request), signedIn: signedIn, projects: projects, values)
    }

    func render(
        _ template: String, title: String, locale: ConsoleLocale, signedIn: SignedIn?,
        projects: [[String: String]], _ values: [String: Any], status: HTTPResponse.Status = .ok
    ) -> Response {
        let t = ConsoleText.table(locale)
        var context = values
        context["t"] = t
        if let signedIn { context["csrf"] = signedIn.csrf }
        let body = library.render(context, withTemplate: template) ?? ""
        var layout: [String: Any] = [
            "lang": locale.rawValue, "title": title, "body": body, "t": t, "projects": projects,
        ]
        if let signedIn {
            layout["agent"] = ["name": signedIn.agent.name]
            layout["csrf"] = signedIn.csrf
            layout["admin"] = signedIn.agent.role == .admin
        }
        var response = html(library.render(layout, withTemplate: "layout") ?? "")
        response.status = status
        return response
    }

    func html(_ text: String) -> Response {
        var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = "text/html; charset=utf-8"
        return response
    }

    private func asset(_ text: String, type: String) -> Response {
        var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.contentType] = type
        response.headers[.cacheControl] = "public, max-age=300"
        return response
    }

    func redirect(_ location: String) -> Response {
        var response = Response(status: .seeOther)
        response.headers[.location] = location
        return response
    }

    /// A post without its CSRF token (or without a session): refused, nothing stored.
    func forbidden() -> Response {
        var response = html(
            "<!DOCTYPE html><title>403</title><p>Forbidden: the form's security token is missing or wrong. Reload the page and try again.</p>"
        )
        response.status = .forbidden
        return response
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        do {
            return try URLEncodedFormDecoder().decode(T.self, from: String(buffer: buffer))
        } catch {
            throw DeskError(.invalid, "the form is not complete")
        }
    }

    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .gmt
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }

    static func size(_ bytes: Int) -> String {
        bytes < 1024 ? "\(bytes) B" : bytes < 1 << 20 ? "\(bytes / 1024) KB" : "\(bytes >> 20) MB"
    }
}
