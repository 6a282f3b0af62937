import EmailChannel
import Foundation
import Hummingbird
import HummingbirdCore
import ServiceDesk

/// The admin pages: channels with their state and `test`/`verify` with live progress, the processing log with
/// retry, customers and the allow/block lists, request types, the SMTP relay. Only agents of role admin see them:
/// signed out a page leads to /login, an agent gets 403; every post checks the session's CSRF token first (403
/// without it, nothing changed). They do what the CLI's commands do, through the same store and EmailChannel code.
extension ConsoleRoutes {
    /// Lines of the processing log per page.
    static let logPageSize = 50

    func registerAdmin(on router: Router<ConsoleContext>) {
        router.get("/admin") { request, _ in
            try await asAdmin(request) { _ in redirect("/admin/channels") }
        }
        router.get("/admin/channels") { request, _ in try await asAdmin(request) { try await channelsPage(request, $0) }
        }
        for kind in ConsoleRunKind.allCases {
            router.post(RouterPath("/admin/channels/:address/\(kind.rawValue)")) { request, context in
                try await asAdmin(request, post: true) { try await startRun(kind, request, context, $0) }
            }
            router.get(RouterPath("/admin/channels/:address/\(kind.rawValue)")) { request, context in
                try await asAdmin(request) { try await runPage(kind, request, context, $0) }
            }
        }
        router.get("/admin/runs/:id/events") { request, context in
            guard let signedIn = try await sessions.signedIn(request) else { return Response(status: .unauthorized) }
            guard signedIn.agent.role == .admin else { return Response(status: .forbidden) }
            // 204 tells the browser's EventSource not to reconnect (HTML §9.2.3): the run is over or unknown.
            guard let run = await runs.claim(try context.parameters.require("id"), agentId: signedIn.agent.id) else {
                return Response(status: .noContent)
            }
            return AdminRunner(store: store, services: admin, logger: logger).response(for: run)
        }
        router.get("/admin/log") { request, _ in try await asAdmin(request) { try await logPage(request, $0) } }
        router.post("/admin/log/retry") { request, _ in
            try await asAdmin(request, post: true) { try await reopen(request, $0, release: false) }
        }
        router.post("/admin/log/release") { request, _ in
            try await asAdmin(request, post: true) { try await reopen(request, $0, release: true) }
        }
        router.get("/admin/customers") { request, _ in
            try await asAdmin(request) { try await customersPage(request, $0) }
        }
        router.post("/admin/customers/add") { request, _ in
            try await asAdmin(request, post: true) { try await addCustomer(request, $0) }
        }
        router.post("/admin/customers/rules/add") { request, _ in
            try await asAdmin(request, post: true) { try await changeRule(request, $0, remove: false) }
        }
        router.post("/admin/customers/rules/remove") { request, _ in
            try await asAdmin(request, post: true) { try await changeRule(request, $0, remove: true) }
        }
        router.get("/admin/request-types") { request, _ in
            try await asAdmin(request) { try await requestTypesPage(request, $0) }
        }
        router.post("/admin/request-types/add") { request, _ in
            try await asAdmin(request, post: true) { try await addRequestType(request, $0) }
        }
        router.get("/admin/relay") { request, _ in try await asAdmin(request) { try await relayPage(request, $0) } }
        router.post("/admin/relay/test") { request, _ in
            try await asAdmin(request, post: true) { try await testRelay(request, $0) }
        }
    }

    // MARK: Access

    /// Runs `body` for a signed-in admin. Signed out: a page leads to /login, a post is 403; an agent: 403.
    private func asAdmin(
        _ request: Request, post: Bool = false, _ body: (SignedIn) async throws -> Response
    ) async throws -> Response {
        guard let signedIn = try await sessions.signedIn(request) else {
            return post ? forbidden() : redirect("/login")
        }
        guard signedIn.agent.role == .admin else {
            var response = try await page(
                "adminOnly", title: ConsoleText.admin.text(locale(signedIn, request)), request, signedIn, [:])
            response.status = .forbidden
            return response
        }
        return try await body(signedIn)
    }

    private struct CSRFOnly: Decodable { var csrf: String? }

    /// The form of an admin post, or nil when its CSRF token is missing or wrong (checked before anything else is
    /// read from it, so an incomplete forged form is refused alike).
    private func adminForm<T: Decodable>(_ type: T.Type, _ request: Request, _ signedIn: SignedIn) async throws -> T? {
        let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
        let token = (try? URLEncodedFormDecoder().decode(CSRFOnly.self, from: text))?.csrf ?? ""
        guard ConsoleSessions.same(signedIn.csrf, token) else { return nil }
        do {
            return try URLEncodedFormDecoder().decode(T.self, from: text)
        } catch {
            throw DeskError(.invalid, "the form is not complete")
        }
    }

    private func adminPage(
        _ template: String, section: String, title: ConsoleText, _ request: Request, _ signedIn: SignedIn,
        _ values: [String: Any]
    ) async throws -> Response {
        let locale = locale(signedIn, request)
        let sections: [(String, ConsoleText, String)] = [
            ("channels", .channels, "/admin/channels"), ("log", .processingLog, "/admin/log"),
            ("customers", .customers, "/admin/customers"), ("request-types", .requestTypes, "/admin/request-types"),
            ("relay", .relay, "/admin/relay"),
        ]
        var values = values
        values["sections"] = sections.map { id, text, href -> [String: Any] in
            ["id": id, "label": text.text(locale), "href": href, "current": id == section]
        }
        return try await page(template, title: title.text(locale), request, signedIn, values)
    }

    /// What a path segment keeps as it is: ASCII unreserved characters, `@` and `+` (RFC 3986 §3.3); everything
    /// else, non-ASCII letters of an internationalised address too, is percent-encoded.
    private static let segmentCharacters = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~@+")

    /// An address as one path segment, and back (`addressParameter`).
    static func pathSegment(_ address: String) -> String {
        address.addingPercentEncoding(withAllowedCharacters: segmentCharacters) ?? address
    }

    private func addressParameter(_ context: ConsoleContext) throws -> String {
        let raw = try context.parameters.require("address")
        return (raw.removingPercentEncoding ?? raw).lowercased()
    }

    /// A template's values without the absent ones: a missing key is a closed section (`{{#x}}`), where a nil
    /// wrapped in `Any` would open it.
    static func compact(_ values: [String: Any?]) -> [String: Any] {
        values.compactMapValues { $0 }
    }

    /// The text, or nil when there is none.
    static func present(_ text: String?) -> String? {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return nil }
        return text
    }

    // MARK: Channels

    private func channelsPage(_ request: Request, _ signedIn: SignedIn) async throws -> Response {
        let statuses = Dictionary(
            (await admin.statusBoard?.all() ?? []).map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })
        let channels = try await store.channels().map { row -> [String: Any] in
            let channel = row.channel
            let status = statuses[channel.address]
            let state = status?.state.rawValue ?? (channel.enabled ? "unknown" : "disabled")
            return Self.compact([
                "address": channel.address, "path": Self.pathSegment(channel.address), "project": row.projectKey,
                "protocol": channel.protocol.rawValue,
                "server": channel.protocol == .lmtp
                    ? "" : "\(channel.host):\(channel.port)",
                "state": state, "failing": status?.state.isFailing ?? false,
                "detail": status?.detail ?? "", "lastError": Self.present(status?.lastError),
                "lastCheck": status?.lastSuccessAt.map(Self.time) ?? "",
                "retryAt": status?.retryAt.map(Self.time),
                "processedToday": status.map { String($0.processedToday) } ?? "",
            ])
        }
        return try await adminPage(
            "adminChannels", section: "channels", title: .channels, request, signedIn, ["channels": channels])
    }

    private func startRun(
        _ kind: ConsoleRunKind, _ request: Request, _ context: ConsoleContext, _ signedIn: SignedIn
    ) async throws -> Response {
        guard try await adminForm(CSRFOnly.self, request, signedIn) != nil else { return forbidden() }
        let address = try addressParameter(context)
        let channel = try await store.runnableChannel(address: address).channel
        let id = await runs.start(kind, address: channel.address, agentId: signedIn.agent.id)
        return redirect("/admin/channels/\(Self.pathSegment(channel.address))/\(kind.rawValue)?run=\(id)")
    }

    private func runPage(
        _ kind: ConsoleRunKind, _ request: Request, _ context: ConsoleContext, _ signedIn: SignedIn
    ) async throws -> Response {
        let channel = try await store.runnableChannel(address: try addressParameter(context)).channel
        let run = request.uri.queryParameters.get("run").flatMap { id in
            // A run id is base64url (ConsoleRuns); anything else names no run.
            id.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
                ? id : nil
        }
        let title: ConsoleText = kind == .test ? .testTitle : .verifyTitle
        return try await adminPage(
            "adminRun", section: "channels", title: title, request, signedIn,
            Self.compact([
                "address": channel.address, "path": Self.pathSegment(channel.address), "kind": kind.rawValue,
                "heading": title.text(locale(signedIn, request)), "events": run.map { "/admin/runs/\($0)/events" },
                "start": kind == .test
                    ? ConsoleText.test.text(locale(signedIn, request))
                    : ConsoleText.verify.text(locale(signedIn, request)),
            ]))
    }

    // MARK: Processing log

    /// The log's filters, read from a query: unknown values are refused, text is bounded.
    struct LogFilter {
        var channel: String?
        var outcome: InboundOutcome?
        var sender: String?
        var since: Date?
        var until: Date?
        var sinceText = ""
        var untilText = ""
        var page = 1

        init(_ parameters: Parameters) throws {
            func text(_ name: String) -> String? {
                guard let value = parameters.get(name)?.trimmingCharacters(in: .whitespaces), !value.isEmpty
                else { return nil }
                return String(value.prefix(320))
            }
            channel = text("channel")
            if let name = text("outcome") {
                guard let outcome = InboundOutcome(rawValue: name) else {
                    throw DeskError(.invalid, "unknown outcome \(name)")
                }
                self.outcome = outcome
            }
            sender = text("sender")
            if let value = text("since") {
                since = try Self.date(value)
                sinceText = value
            }
            if let value = text("until") {
                until = try Self.date(value)
                untilText = value
            }
            page = text("page").flatMap { Int($0) }.map { min(max($0, 1), 10_000) } ?? 1
        }

        /// `yyyy-MM-dd`, `yyyy-MM-ddTHH:mm` (what a datetime-local field sends) or full ISO 8601; UTC unless it says.
        static func date(_ text: String) throws -> Date {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = .gmt
            for format in ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss"] {
                formatter.dateFormat = format
                if let date = formatter.date(from: text) { return date }
            }
            if let date = ISO8601DateFormatter().date(from: text) { return date }
            throw DeskError(.invalid, "\(text) is not a date (yyyy-MM-dd or yyyy-MM-ddTHH:mm, UTC)")
        }

        /// The query of this filter on another page.
        func query(page: Int) -> String {
            var components = URLComponents()
            var items: [URLQueryItem] = []
            if let channel { items.append(.init(name: "channel", value: channel)) }
            if let outcome { items.append(.init(name: "outcome", value: outcome.rawValue)) }
            if let sender { items.append(.init(name: "sender", value: sender)) }
            if !sinceText.isEmpty { items.append(.init(name: "since", value: sinceText)) }
            if !untilText.isEmpty { items.append(.init(name: "until", value: untilText)) }
            if page > 1 { items.append(.init(name: "page", value: String(page))) }
            components.queryItems = items
            // `+` would read as a space in a query: encode it.
            return (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        }
    }

    private func logPage(_ request: Request, _ signedIn: SignedIn) async throws -> Response {
        let filter = try LogFilter(request.uri.queryParameters)
        let channels = try await store.channels()
        let addresses = Dictionary(
            channels.compactMap { row in row.channel.id.map { ($0, row.channel.address) } },
            uniquingKeysWith: { a, _ in a })
        let size = Self.logPageSize
        let records = try await store.processingLog(
            channelAddress: filter.channel, since: filter.since, outcomes: filter.outcome.map { [$0] },
            sender: filter.sender, until: filter.until, limit: size + 1, offset: (filter.page - 1) * size)
        let back = filter.query(page: filter.page)
        let lines = records.prefix(size).map { record -> [String: Any] in
            Self.compact([
                "time": Self.time(record.time), "channel": addresses[record.channelId] ?? "?",
                "from": record.from ?? "", "subject": record.subject ?? "", "outcome": record.outcome.rawValue,
                "request": record.requestKey, "detail": record.detail ?? "",
                "notes": (record.notes ?? "").split(separator: "\n").map { ["line": String($0)] },
                "inbound": record.inboundId.map(String.init),
                "attempts": record.inboundId == nil ? "" : String(record.attempts),
                "retry": record.outcome == .failed && record.inboundId != nil,
                "release": record.outcome == .held && record.inboundId != nil, "back": back,
            ])
        }
        let channelChoices = channels.map { row -> [String: Any] in
            ["value": row.channel.address, "selected": row.channel.address == filter.channel?.lowercased()]
        }
        let outcomeChoices = InboundOutcome.allCases.map { outcome -> [String: Any] in
            ["value": outcome.rawValue, "selected": outcome == filter.outcome]
        }
        return try await adminPage(
            "adminLog", section: "log", title: .processingLog, request, signedIn,
            Self.compact([
                "lines": lines, "channels": channelChoices, "outcomes": outcomeChoices, "sender": filter.sender ?? "",
                "since": filter.sinceText, "until": filter.untilText, "page": String(filter.page),
                "newer": filter.page > 1 ? "/admin/log?" + filter.query(page: filter.page - 1) : nil,
                "older": records.count > size ? "/admin/log?" + filter.query(page: filter.page + 1) : nil,
            ]))
    }

    private struct ReopenForm: Decodable {
        var id: String
        var back: String?
    }

    /// `postdesk inbound retry ID` (a failed mail) or `inbound release ID` (a held one): back to pending with fresh
    /// attempts, handed to the router at once when it runs here.
    private func reopen(_ request: Request, _ signedIn: SignedIn, release: Bool) async throws -> Response {
        guard let form = try await adminForm(ReopenForm.self, request, signedIn) else { return forbidden() }
        guard let id = Int64(form.id) else { throw DeskError(.invalid, "no inbound mail \(form.id)") }
        let ids = release ? try await store.releaseHeld(.id(id)) : try await store.retryFailed(.id(id))
        if let router = admin.requestRouter { await router.submit(ids) }
        // Back to the same view: the filter is read again and written anew, so nothing else reaches the Location.
        let back = String((form.back ?? "").prefix(2000)).filter { !$0.isNewline && $0 != "#" }
        let filter = try? LogFilter(URI("/admin/log?" + back).queryParameters)
        let page = filter.map { $0.query(page: $0.page) } ?? ""
        return redirect("/admin/log" + (page.isEmpty ? "" : "?" + page))
    }

    // MARK: Customers and lists

    /// The project a page is about: `?project=KEY`, else the first one; nil when there is none.
    private func chosenProject(_ request: Request) async throws -> (Project?, [Project]) {
        let projects = try await store.projects()
        guard let key = request.uri.queryParameters.get("project")?.uppercased(), !key.isEmpty else {
            return (projects.first, projects)
        }
        guard let project = projects.first(where: { $0.key == key }) else {
            throw DeskError(.notFound, "no project \(key)")
        }
        return (project, projects)
    }

    private func projectChoices(_ projects: [Project], _ current: Project?, path: String) -> [[String: Any]] {
        projects.map { ["key": $0.key, "href": "\(path)?project=\($0.key)", "current": $0.key == current?.key] }
    }

    private func customersPage(_ request: Request, _ signedIn: SignedIn) async throws -> Response {
        let (project, projects) = try await chosenProject(request)
        var values: [String: Any] = ["projects": projectChoices(projects, project, path: "/admin/customers")]
        if let project {
            values["project"] = [
                "key": project.key, "name": project.name, "signup": project.signup.rawValue,
                "restricted": project.signup != .public,
            ]
            values["customers"] = try await store.customers(projectKey: project.key).map {
                ["address": $0.address, "name": $0.name ?? ""]
            }
            values["rules"] = try await store.customerRules(projectKey: project.key).map {
                ["kind": $0.kind.rawValue, "pattern": $0.pattern]
            }
            values["kinds"] = CustomerRuleKind.allCases.map { ["value": $0.rawValue] }
        }
        return try await adminPage("adminCustomers", section: "customers", title: .customers, request, signedIn, values)
    }

    private struct CustomerForm: Decodable {
        var project: String
        var address: String
        var name: String?
    }

    /// `postdesk customer add`.
    private func addCustomer(_ request: Request, _ signedIn: SignedIn) async throws -> Response {
        guard let form = try await adminForm(CustomerForm.self, request, signedIn) else { return forbidden() }
        let name = form.name?.trimmingCharacters(in: .whitespaces)
        _ = try await store.addCustomer(
            projectKey: form.project, address: form.address, name: name?.isEmpty == false ? name : nil)
        return redirect("/admin/customers?project=\(try projectKey(form.project))")
    }

    private struct RuleForm: Decodable {
        var project: String
        var kind: String
        var pattern: String
    }

    /// `postdesk customer allow|block PROJECT PATTERN [--remove]`.
    private func changeRule(_ request: Request, _ signedIn: SignedIn, remove: Bool) async throws -> Response {
        guard let form = try await adminForm(RuleForm.self, request, signedIn) else { return forbidden() }
        guard let kind = CustomerRuleKind(rawValue: form.kind) else {
            throw DeskError(.invalid, "unknown list \(form.kind)")
        }
        if remove {
            try await store.removeCustomerRule(projectKey: form.project, kind: kind, pattern: form.pattern)
        } else {
            _ = try await store.addCustomerRule(projectKey: form.project, kind: kind, pattern: form.pattern)
        }
        return redirect("/admin/customers?project=\(try projectKey(form.project))")
    }

    /// A project key fit for a redirect: letters and digits only (the store has checked it exists).
    private func projectKey(_ text: String) throws -> String {
        let key = text.uppercased()
        guard !key.isEmpty, key.count <= 32, key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw DeskError(.invalid, "no project \(text)")
        }
        return key
    }

    // MARK: Request types

    private func requestTypesPage(_ request: Request, _ signedIn: SignedIn) async throws -> Response {
        let (project, projects) = try await chosenProject(request)
        var values: [String: Any] = [
            "projects": projectChoices(projects, project, path: "/admin/request-types"),
            "defaultFields": "summary:visible:required\ndescription:visible:required",
        ]
        if let project {
            values["project"] = ["key": project.key, "name": project.name]
            values["types"] = try await store.requestTypes(projectKey: project.key).map { type -> [String: Any] in
                Self.compact([
                    "name": type.name, "fields": type.fields.map { ["spec": $0.spec] }, "problem": type.unsuitability,
                ])
            }
        }
        return try await adminPage(
            "adminRequestTypes", section: "request-types", title: .requestTypes, request, signedIn, values)
    }

    private struct RequestTypeForm: Decodable {
        var project: String
        var name: String
        var fields: String?
    }

    /// `postdesk request-type add PROJECT NAME --field …`: one field per line.
    private func addRequestType(_ request: Request, _ signedIn: SignedIn) async throws -> Response {
        guard let form = try await adminForm(RequestTypeForm.self, request, signedIn) else { return forbidden() }
        var fields: [RequestField] = []
        for line in (form.fields ?? "").split(whereSeparator: \.isNewline).prefix(100) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            guard let field = RequestField(spec: text) else {
                throw DeskError(.invalid, "field \(text): expected NAME:visible|hidden:required|optional")
            }
            fields.append(field)
        }
        _ = try await store.addRequestType(projectKey: form.project, name: form.name, fields: fields)
        return redirect("/admin/request-types?project=\(try projectKey(form.project))")
    }

    // MARK: Relay

    private func relayPage(_ request: Request, _ signedIn: SignedIn, report: ChannelTestReport? = nil) async throws
        -> Response
    {
        var values: [String: Any] = [:]
        if let relay = try await store.relay()?.settings {
            values["settings"] = Self.compact([
                "host": relay.host, "port": String(relay.port), "tls": relay.tls.rawValue, "from": relay.fromAddress,
                "username": relay.username ?? "", "authMethod": relay.username == nil ? nil : relay.authMethod.rawValue,
                "caFile": relay.caFile,
            ])
        }
        if let notifier {
            let (status, outbox) = try await notifier.adminStatus(store: store)
            values["status"] = Self.compact([
                "state": status.state.rawValue, "since": status.since.map(Self.time),
                "lastDelivery": status.lastDeliveryAt.map(Self.time) ?? "", "failures": String(status.failures),
                "retryAt": status.retryAt.map(Self.time), "serverText": Self.present(status.diagnosis?.serverText),
                "diagnosis": status.diagnosis?.summary, "fix": status.diagnosis?.fix,
            ])
            values["outbox"] = [
                "pending": String(outbox.pending), "due": String(outbox.due), "failed": String(outbox.failed),
            ]
        }
        if let report {
            values["report"] = Self.compact([
                "ok": report.ok,
                "steps": report.steps.map {
                    Self.compact(["name": $0.name, "ok": $0.ok, "detail": Self.present($0.detail)])
                },
                "serverText": Self.present(report.serverText), "diagnosis": report.diagnosis?.summary,
                "fix": report.diagnosis?.fix, "advice": report.advice.map { ["text": $0] },
            ])
        }
        return try await adminPage("adminRelay", section: "relay", title: .relay, request, signedIn, values)
    }

    /// The relay's test as `smtp set` runs it, with the stored settings: log in, offer the sender, RSET; no mail.
    private func testRelay(_ request: Request, _ signedIn: SignedIn) async throws -> Response {
        guard try await adminForm(CSRFOnly.self, request, signedIn) != nil else { return forbidden() }
        guard let relay = try await store.relay() else {
            throw DeskError(.invalid, "no SMTP relay is set: run postdesk smtp set first")
        }
        let report = await RelayTester().test(stored: relay, tokenKeeper: admin.tokenKeeper, logger: logger)
        return try await relayPage(request, signedIn, report: report)
    }
}
