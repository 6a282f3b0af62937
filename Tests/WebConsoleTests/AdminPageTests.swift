import Foundation
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import Logging
import MailServerHarness
import ServiceDesk
import Synchronization
import Testing

@testable import EmailChannel
@testable import WebConsole

/// A desk as `consoleDesk` makes it, with an admin (Root) besides the agent Ada.
func adminDesk(mails: [String] = []) async throws -> DeskStore {
    let store = try await consoleDesk(mails: mails)
    _ = try await store.addAgent(
        email: "root@desk.test", name: "Root Admin", role: .admin,
        passwordHash: Bcrypt.hash("correct horse battery", cost: 4))
    return store
}

/// Signs in as `email` through the login form; the session cookie header and the page's CSRF token.
func signIn(_ client: some TestClientProtocol, as email: String) async throws -> (cookie: String, csrf: String) {
    let page = try await client.execute(uri: "/login", method: .get)
    let loginToken = try #require(cookies(page)[ConsoleSessions.loginCookieName])
    let token = try #require(csrf(in: String(buffer: page.body)))
    var headers = formHeaders
    headers[.cookie] = "\(ConsoleSessions.loginCookieName)=\(loginToken)"
    let answer = try await client.execute(
        uri: "/login", method: .post, headers: headers,
        body: form([("email", email), ("password", "correct horse battery"), ("csrf", token)]))
    #expect(answer.status == .seeOther)
    let cookie = "\(ConsoleSessions.cookieName)=\(try #require(cookies(answer)[ConsoleSessions.cookieName]))"
    let settings = try await client.execute(uri: "/settings", method: .get, headers: [.cookie: cookie])
    return (cookie, try #require(csrf(in: String(buffer: settings.body))))
}

@Suite("Web console: admin pages", .timeLimit(.minutes(3)))
struct AdminPageTests {
    static let logger = Logger(label: "console-admin-test")

    static func app(_ store: DeskStore, _ services: ConsoleAdminServices? = nil) throws -> some ApplicationProtocol {
        Application(
            router: try WebConsole.router(
                store: store, notifier: nil, network: ConsoleNetwork(), admin: services, logger: logger))
    }

    static func get(_ client: some TestClientProtocol, _ uri: String, _ cookie: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie])
    }

    static func post(
        _ client: some TestClientProtocol, _ uri: String, _ cookie: String, _ fields: [(String, String)]
    ) async throws -> TestResponse {
        var headers = formHeaders
        headers[.cookie] = cookie
        return try await client.execute(uri: uri, method: .post, headers: headers, body: form(fields))
    }

    static let pages = [
        "/admin", "/admin/channels", "/admin/log", "/admin/customers", "/admin/request-types", "/admin/relay",
        "/admin/channels/help@desk.test/test", "/admin/channels/help@desk.test/verify",
    ]

    @Test("signed out the admin pages lead to /login; an agent gets 403 and no Admin link; an admin gets both")
    func access() async throws {
        let store = try await adminDesk()
        try await Self.app(store).test(.router) { client in
            for path in Self.pages {
                let answer = try await client.execute(uri: path, method: .get)
                #expect(answer.status == .seeOther, "\(path)")
                #expect(answer.headers[.location] == "/login", "\(path)")
            }
            let signedOutPost = try await client.execute(
                uri: "/admin/customers/rules/add", method: .post, headers: formHeaders,
                body: form([("project", "SD"), ("kind", "block"), ("pattern", "spam.test")]))
            #expect(signedOutPost.status == .forbidden)
            #expect(try await client.execute(uri: "/admin/runs/x/events", method: .get).status == .unauthorized)

            let agent = try await signIn(client, as: "ada@desk.test")
            for path in Self.pages {
                let answer = try await Self.get(client, path, agent.cookie)
                #expect(answer.status == .forbidden, "\(path)")
                #expect(String(buffer: answer.body).contains("id=\"admin-only\""), "\(path)")
            }
            let queue = String(buffer: try await Self.get(client, "/projects/SD/queue", agent.cookie).body)
            #expect(!queue.contains("id=\"nav-admin\""))
            // A valid session and token, but not an admin: refused, nothing changed.
            let refused = try await Self.post(
                client, "/admin/customers/rules/add", agent.cookie,
                [("csrf", agent.csrf), ("project", "SD"), ("kind", "block"), ("pattern", "spam.test")])
            #expect(refused.status == .forbidden)
            #expect(try await store.customerRules(projectKey: "SD").isEmpty)
            #expect(try await Self.get(client, "/admin/runs/x/events", agent.cookie).status == .forbidden)

            let admin = try await signIn(client, as: "root@desk.test")
            let adminQueue = String(buffer: try await Self.get(client, "/projects/SD/queue", admin.cookie).body)
            #expect(adminQueue.contains("<a id=\"nav-admin\" href=\"/admin/channels\">Admin</a>"))
            for path in Self.pages.dropFirst() {
                #expect(try await Self.get(client, path, admin.cookie).status == .ok, "\(path)")
            }
            let unknown = try await Self.get(client, "/admin/channels/nobody@desk.test/test", admin.cookie)
            #expect(unknown.status == .notFound)
            let start = try await Self.post(
                client, "/admin/channels/nobody@desk.test/test", admin.cookie, [("csrf", admin.csrf)])
            #expect(start.status == .notFound)
            let japanese = try await client.execute(
                uri: "/admin/channels", method: .get, headers: [.cookie: admin.cookie, .acceptLanguage: "ja"])
            #expect(String(buffer: japanese.body).contains("<h1>チャネル</h1>"))
        }
    }

    @Test("channels, log, customers, request types and relay show hostile strings escaped, never the relay password")
    func escaping() async throws {
        let hostile = "<script>window.__pwned=1</script>"
        let store = try await adminDesk(mails: [mail(subject: hostile)])
        _ = try await store.addCustomer(projectKey: "SD", address: "eve@customer.test", name: hostile)
        _ = try await store.addRequestType(
            projectKey: "SD", name: hostile, fields: [RequestField(name: "summary", visible: true, required: true)])
        try await store.setSMTP(
            host: "127.0.0.1", port: 2525, tls: .none, caFile: nil, fromAddress: "help@desk.test",
            username: "relay-user", password: "relay-password-never-shown")
        let board = ChannelStatusBoard()
        let channelId = try #require(try await store.channels().first?.channel.id)
        await board.update(channelId, address: "help@desk.test") { status in
            status.state = .needsAttention
            status.detail = hostile
            status.lastError = "NO [ALERT] \(hostile)"
            status.lastSuccessAt = Date(timeIntervalSince1970: 1_796_000_000)
        }
        try await Self.app(store, ConsoleAdminServices(statusBoard: board)).test(.router) { client in
            let admin = try await signIn(client, as: "root@desk.test")
            for path in ["/admin/channels", "/admin/log", "/admin/customers", "/admin/request-types"] {
                let html = String(buffer: try await Self.get(client, path, admin.cookie).body)
                #expect(html.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"), "\(path)")
                #expect(!html.contains("<script>window"), "\(path)")
            }
            let channels = String(buffer: try await Self.get(client, "/admin/channels", admin.cookie).body)
            #expect(channels.contains("data-state=\"needs-attention\""))
            #expect(channels.contains("action=\"/admin/channels/help@desk.test/test\""))
            #expect(channels.contains("action=\"/admin/channels/help@desk.test/verify\""))
            #expect(channels.contains("NO [ALERT] &lt;script&gt;"))
            let types = String(buffer: try await Self.get(client, "/admin/request-types", admin.cookie).body)
            #expect(types.contains("has no description field"))
            #expect(types.contains("can receive email"))
            let relay = String(buffer: try await Self.get(client, "/admin/relay", admin.cookie).body)
            #expect(relay.contains("127.0.0.1:2525"))
            #expect(relay.contains("relay-user"))
            #expect(!relay.contains("relay-password-never-shown"))
        }
    }

    @Test("admin forms without their CSRF token, or with a forged one, are 403 and change nothing")
    func csrf() async throws {
        let store = try await adminDesk()
        try await Self.app(store).test(.router) { client in
            let admin = try await signIn(client, as: "root@desk.test")
            let forms: [(String, [(String, String)])] = [
                ("/admin/customers/rules/add", [("project", "SD"), ("kind", "block"), ("pattern", "spam.test")]),
                ("/admin/customers/add", [("project", "SD"), ("address", "mallory@customer.test")]),
                ("/admin/request-types/add", [("project", "SD"), ("name", "Forged"), ("fields", "")]),
                ("/admin/log/retry", [("id", "1")]),
                ("/admin/channels/help@desk.test/test", []),
                ("/admin/channels/help@desk.test/verify", []),
                ("/admin/relay/test", []),
                // Incomplete too: refused for the token before anything else is read.
                ("/admin/customers/rules/remove", []),
            ]
            for (path, fields) in forms {
                #expect(try await Self.post(client, path, admin.cookie, fields).status == .forbidden, "\(path)")
                let forged = try await Self.post(client, path, admin.cookie, fields + [("csrf", "forged")])
                #expect(forged.status == .forbidden, "\(path)")
            }
            #expect(try await store.customerRules(projectKey: "SD").isEmpty)
            #expect(try await store.customers(projectKey: "SD").isEmpty)
            #expect(try await store.requestTypes(projectKey: "SD").map(\.name) == ["Get help"])
        }
    }

    @Test("the block list: an entry added by the form is listed and kept, and the remove form takes it away")
    func blockList() async throws {
        let store = try await adminDesk()
        try await Self.app(store).test(.router) { client in
            let admin = try await signIn(client, as: "root@desk.test")
            let added = try await Self.post(
                client, "/admin/customers/rules/add", admin.cookie,
                [("csrf", admin.csrf), ("project", "sd"), ("kind", "block"), ("pattern", "Spam.test")])
            #expect(added.status == .seeOther)
            #expect(added.headers[.location] == "/admin/customers?project=SD")
            let rules = try await store.customerRules(projectKey: "SD")
            #expect(rules.map(\.kind) == [.block] && rules.map(\.pattern) == ["@spam.test"])
            let page = String(buffer: try await Self.get(client, "/admin/customers?project=SD", admin.cookie).body)
            #expect(page.contains("<tr class=\"rule\" data-kind=\"block\"><td class=\"kind\">block</td>"))
            #expect(page.contains("<td class=\"pattern\">@spam.test</td>"))
            let customer = try await Self.post(
                client, "/admin/customers/add", admin.cookie,
                [("csrf", admin.csrf), ("project", "SD"), ("address", "Bob@Customer.test"), ("name", "Bob")])
            #expect(customer.status == .seeOther)
            #expect(try await store.customers(projectKey: "SD").map(\.address) == ["bob@customer.test"])
            let removed = try await Self.post(
                client, "/admin/customers/rules/remove", admin.cookie,
                [("csrf", admin.csrf), ("project", "SD"), ("kind", "block"), ("pattern", "@spam.test")])
            #expect(removed.status == .seeOther)
            #expect(try await store.customerRules(projectKey: "SD").isEmpty)
            let badKind = try await Self.post(
                client, "/admin/customers/rules/add", admin.cookie,
                [("csrf", admin.csrf), ("project", "SD"), ("kind", "maybe"), ("pattern", "x.test")])
            #expect(badKind.status == .badRequest)
        }
    }

    @Test("a request type added by the form has the fields of its lines; a malformed line is refused")
    func requestTypes() async throws {
        let store = try await adminDesk()
        try await Self.app(store).test(.router) { client in
            let admin = try await signIn(client, as: "root@desk.test")
            let added = try await Self.post(
                client, "/admin/request-types/add", admin.cookie,
                [
                    ("csrf", admin.csrf), ("project", "SD"), ("name", "Billing"),
                    ("fields", "summary:visible:required\r\ndescription:visible:required\r\ninvoice:hidden:optional"),
                ])
            #expect(added.status == .seeOther)
            let billing = try #require(try await store.requestTypes(projectKey: "SD").first { $0.name == "Billing" })
            #expect(
                billing.fields.map(\.spec) == [
                    "summary:visible:required", "description:visible:required", "invoice:hidden:optional",
                ])
            #expect(billing.unsuitability == nil)
            let malformed = try await Self.post(
                client, "/admin/request-types/add", admin.cookie,
                [("csrf", admin.csrf), ("project", "SD"), ("name", "Broken"), ("fields", "summary:maybe")])
            #expect(malformed.status == .badRequest)
            #expect(try await store.requestTypes(projectKey: "SD").count == 2)
        }
    }

    @Test("the log filters by outcome, sender and time and pages by 50; Retry puts a failed mail back to pending")
    func logAndRetry() async throws {
        let store = try await adminDesk(mails: (1...54).map { mail(subject: "Question \($0)") })
        let channelId = try #require(try await store.channels().first?.channel.id)
        let raw = Array(mail(subject: "Broken one").replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let id = try await store.receive(channelId: channelId, raw: raw, mailboxUid: "broken").inboundId
        let policy = IntakePolicy(maxAttempts: 1)
        _ = try #require(try await store.claimForProcessing(inboundId: id, policy: policy))
        try await store.recordAttemptFailure(inboundId: id, reason: "parser fell over", policy: policy)
        #expect(try await store.inbound(id: id)?.outcome == .failed)
        try await Self.app(store).test(.router) { client in
            let admin = try await signIn(client, as: "root@desk.test")
            let first = String(buffer: try await Self.get(client, "/admin/log", admin.cookie).body)
            #expect(first.components(separatedBy: "<tr class=\"line\"").count - 1 == 50)
            #expect(first.contains("id=\"log-older\" href=\"/admin/log?page=2\""))
            let second = String(buffer: try await Self.get(client, "/admin/log?page=2", admin.cookie).body)
            #expect(second.components(separatedBy: "<tr class=\"line\"").count - 1 == 5)
            #expect(!second.contains("id=\"log-older\""))

            let failed = String(
                buffer: try await Self.get(client, "/admin/log?outcome=failed&sender=CAROL@", admin.cookie).body)
            #expect(failed.components(separatedBy: "<tr class=\"line\"").count - 1 == 1)
            #expect(failed.contains("data-inbound=\"\(id)\""))
            #expect(failed.contains("quarantined after 1 attempts: parser fell over"))
            #expect(failed.contains("class=\"log-retry\""))
            let nobody = String(buffer: try await Self.get(client, "/admin/log?sender=nobody", admin.cookie).body)
            #expect(nobody.contains("<tr class=\"empty\">"))
            let future = String(buffer: try await Self.get(client, "/admin/log?since=2999-01-01", admin.cookie).body)
            #expect(future.contains("<tr class=\"empty\">"))
            let past = String(
                buffer: try await Self.get(client, "/admin/log?until=2000-01-01T00:00", admin.cookie).body)
            #expect(past.contains("<tr class=\"empty\">"))
            #expect(try await Self.get(client, "/admin/log?outcome=bogus", admin.cookie).status == .badRequest)
            #expect(try await Self.get(client, "/admin/log?since=yesterday", admin.cookie).status == .badRequest)

            let retried = try await Self.post(
                client, "/admin/log/retry", admin.cookie,
                [("csrf", admin.csrf), ("id", String(id)), ("back", "outcome=failed&sender=carol%40\r\nX-Evil: 1")])
            #expect(retried.status == .seeOther)
            #expect(retried.headers[.location] == "/admin/log?outcome=failed&sender=carol@X-Evil:%201")
            let mail = try #require(try await store.inbound(id: id))
            #expect(mail.outcome == nil && mail.processedAt == nil && mail.attempts == 0)
            // Now pending: a second retry is refused, and the row is no longer failed.
            let again = try await Self.post(
                client, "/admin/log/retry", admin.cookie, [("csrf", admin.csrf), ("id", String(id))])
            #expect(again.status == .badRequest)
            #expect(
                try await store.processingLog(channelAddress: nil, since: nil, outcomes: [.failed], limit: 5).isEmpty)
        }
    }

    @Test("a channel address is one ASCII path segment, and the route reads it back")
    func pathSegments() {
        #expect(ConsoleRoutes.pathSegment("help+sd@desk.test") == "help+sd@desk.test")
        #expect(ConsoleRoutes.pathSegment("サポート@例え.jp") == "%E3%82%B5%E3%83%9D%E3%83%BC%E3%83%88@%E4%BE%8B%E3%81%88.jp")
        #expect(ConsoleRoutes.pathSegment("a/b?c#d@x.test") == "a%2Fb%3Fc%23d@x.test")
        #expect(ConsoleRoutes.pathSegment("サポート@例え.jp").removingPercentEncoding == "サポート@例え.jp")
    }

    @Test("Release on a mail the rate breaker held processes it; on a mail that is not held it is refused")
    func release() async throws {
        let store = try await adminDesk()
        let channelId = try #require(try await store.channels().first?.channel.id)
        let policy = IntakePolicy(senderHourlyLimit: 1)
        var ids: [Int64] = []
        for number in 1...2 {
            let raw = Array(mail(subject: "Alert \(number)").replacingOccurrences(of: "\n", with: "\r\n").utf8)
            let id = try await store.receive(channelId: channelId, raw: raw, mailboxUid: "alert-\(number)").inboundId
            _ = try await store.process(MailReading(raw: raw), inboundId: id, policy: policy)
            ids.append(id)
        }
        #expect(try await store.inbound(id: ids[1])?.outcome == .held)
        let (created, held) = (ids[0], ids[1])
        try await Self.app(store).test(.router) { client in
            let admin = try await signIn(client, as: "root@desk.test")
            let page = String(buffer: try await Self.get(client, "/admin/log?outcome=held", admin.cookie).body)
            #expect(page.contains("class=\"log-release\""))
            #expect(!page.contains("class=\"log-retry\""))
            let refused = try await Self.post(
                client, "/admin/log/release", admin.cookie, [("csrf", admin.csrf), ("id", String(created))])
            #expect(refused.status == .badRequest)
            let released = try await Self.post(
                client, "/admin/log/release", admin.cookie,
                [("csrf", admin.csrf), ("id", String(held)), ("back", "outcome=held")])
            #expect(released.status == .seeOther)
            #expect(released.headers[.location] == "/admin/log?outcome=held")
            let mail = try #require(try await store.inbound(id: held))
            #expect(mail.outcome == nil && mail.processedAt == nil)
        }
    }

    /// The events of a stream's body, as (name, data) pairs.
    static func events(_ body: String) -> [(name: String, data: String)] {
        body.components(separatedBy: "\n\n").compactMap { block in
            var name: String?
            var data: String?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            guard let name, let data else { return nil }
            return (name, data)
        }
    }

    /// Starts a run by its form, opens its page and returns the event stream's address.
    static func startRun(
        _ client: some TestClientProtocol, _ kind: String, _ address: String, _ admin: (cookie: String, csrf: String)
    ) async throws -> String {
        let started = try await post(client, "/admin/channels/\(address)/\(kind)", admin.cookie, [("csrf", admin.csrf)])
        #expect(started.status == .seeOther)
        let location = try #require(started.headers[.location])
        #expect(location.hasPrefix("/admin/channels/\(address)/\(kind)?run="))
        let page = String(buffer: try await get(client, location, admin.cookie).body)
        let marker = try #require(page.range(of: "data-events=\""))
        return String(page[marker.upperBound...].prefix { $0 != "\"" })
    }

    /// An admin's desk with one IMAP channel on real Dovecot (a new mailbox named `prefix`-…) and OpenSMTPD as its
    /// relay.
    static func dovecotDesk(_ prefix: String) async throws -> (MailServers, DeskStore, String) {
        let servers = try await MailServers.shared()
        let address = "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())@desk.test"
        try servers.addUser(address, password: "secret")
        let store = try await adminDesk()
        _ = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: address, protocol: .imap, host: "127.0.0.1", port: servers.imapPort,
                tls: .starttls, caFile: servers.caFile, username: address, password: "secret",
                requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: nil, uidNext: nil))
        try await store.setSMTP(
            host: "127.0.0.1", port: servers.smtpPort, tls: .none, caFile: nil, fromAddress: "help@desk.test",
            username: nil, password: nil)
        return (servers, store, address)
    }

    @Test("Test on real Dovecot: the stream is text/event-stream, its steps arrive in order, then the end; once")
    func channelTestStream() async throws {
        let (servers, store, address) = try await Self.dovecotDesk("console")
        try await Self.app(store).test(.router) { client in
            let admin = try await signIn(client, as: "root@desk.test")
            let events = try await Self.startRun(client, "test", address, admin)
            #expect(events.hasPrefix("/admin/runs/"))
            let stream = try await Self.get(client, events, admin.cookie)
            #expect(stream.status == .ok)
            #expect(stream.headers[.contentType] == "text/event-stream; charset=utf-8")
            let received = Self.events(String(buffer: stream.body))
            #expect(received.map(\.name) == Array(repeating: "step", count: 7) + ["end"])
            let steps = try received.dropLast().map {
                try JSONDecoder().decode(ChannelTestReport.Step.self, from: Data($0.data.utf8))
            }
            #expect(
                steps.map(\.name) == [
                    "Connect to IMAP 127.0.0.1:\(servers.imapPort)", "STARTTLS", "Log in as \(address)",
                    "Open INBOX", "Count new messages", "SMTP relay 127.0.0.1:\(servers.smtpPort)", "SMTP RSET",
                ])
            #expect(steps.allSatisfy { $0.ok })
            let end = try JSONDecoder().decode(RunEnd.self, from: Data(try #require(received.last).data.utf8))
            #expect(end.ok)
            // A run streams once: the browser's reconnect gets 204, which stops its EventSource.
            #expect(try await Self.get(client, events, admin.cookie).status == .noContent)

            // A wrong password: the failed step carries Dovecot's own words, and the end says it failed.
            let wrong = "wrong-\(UUID().uuidString.prefix(8).lowercased())@desk.test"
            try servers.addUser(wrong, password: "other")
            _ = try await store.linkChannel(
                ChannelDraft(
                    projectKey: "SD", address: wrong, protocol: .imap, host: "127.0.0.1", port: servers.imapPort,
                    tls: .starttls, caFile: servers.caFile, username: wrong, password: "secret",
                    requestTypeName: "Get help"),
                watermark: LinkWatermark(uidValidity: nil, uidNext: nil))
            let failing = Self.events(
                String(
                    buffer: try await Self.get(
                        client, try await Self.startRun(client, "test", wrong, admin), admin.cookie
                    ).body))
            #expect(failing.last?.name == "end")
            let failedSteps = try failing.filter { $0.name == "step" }.map {
                try JSONDecoder().decode(ChannelTestReport.Step.self, from: Data($0.data.utf8))
            }
            // The login fails and the relay is still tested after it, as `channel test` does.
            #expect(failedSteps.filter { !$0.ok }.map(\.name) == ["Log in as \(wrong)"])
            let failedEnd = try JSONDecoder().decode(RunEnd.self, from: Data(try #require(failing.last).data.utf8))
            #expect(!failedEnd.ok && failedEnd.diagnosis != nil)
        }
    }

    @Test(
        "Verify through OpenSMTPD and Dovecot: the relay's reply, then the test request the mail became, then the end")
    func verifyStream() async throws {
        let servers = try await MailServers.shared()
        let address = "verify-\(UUID().uuidString.prefix(8).lowercased())@desk.test"
        try servers.addUser(address, password: "secret")
        let store = try await adminDesk()
        let channel = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: address, protocol: .imap, host: "127.0.0.1", port: servers.imapPort,
                tls: .starttls, caFile: servers.caFile, username: address, password: "secret",
                requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: nil, uidNext: nil))
        let channelId = try #require(channel.id)
        try await store.setSMTP(
            host: "127.0.0.1", port: servers.smtpPort, tls: .none, caFile: nil, fromAddress: "help@desk.test",
            username: nil, password: nil)
        let services = ConsoleAdminServices(verifyTimeout: .seconds(60), verifyPollInterval: .milliseconds(100))
        try await Self.app(store, services).test(.router) { client in
            let admin = try await signIn(client, as: "root@desk.test")
            let events = try await Self.startRun(client, "verify", address, admin)
            async let streamed = Self.get(client, events, admin.cookie)
            // The mailbox actor's part, done here: the test email from Dovecot's INBOX, stored and processed.
            let delivered = try await servers.waitForMessages(1, in: address, timeout: .seconds(30))
            let raw = Array(try #require(delivered.first).raw.replacingOccurrences(of: "\n", with: "\r\n").utf8)
            guard case .stored(let id) = try await store.receive(channelId: channelId, raw: raw, mailboxUid: "1")
            else { throw ConsoleTestError("the test email was not stored") }
            _ = try await store.process(MailReading(raw: raw), inboundId: id)
            let stream = try await streamed
            #expect(stream.headers[.contentType] == "text/event-stream; charset=utf-8")
            let received = Self.events(String(buffer: stream.body)).filter { $0.name != "note" }
            #expect(received.map(\.name) == ["step", "step", "end"])
            let steps = try received.dropLast().map {
                try JSONDecoder().decode(ChannelTestReport.Step.self, from: Data($0.data.utf8))
            }
            #expect(steps.map(\.ok) == [true, true])
            #expect(steps.first?.detail.hasPrefix("the relay said: 250") == true)
            #expect(steps.last?.detail == "it became test request SD-1")
            let end = try JSONDecoder().decode(RunEnd.self, from: Data(try #require(received.last).data.utf8))
            #expect(end.ok && end.request == "SD-1")
        }
    }

    @Test("a verification still waiting ends at once, saying so, when its run is cancelled (browser gone, SIGTERM)")
    func verifyCancelled() async throws {
        let (_, store, address) = try await Self.dovecotDesk("cancel")
        let runner = AdminRunner(
            store: store, services: ConsoleAdminServices(verifyTimeout: .seconds(90)), logger: Self.logger)
        let heard = Mutex<[RunEvent]>([])
        let run = ConsoleRun(kind: .verify, address: address, agentId: 1, createdAt: Date())
        let task = Task { await runner.execute(run) { event in heard.withLock { $0.append(event) } } }
        let deadline = ContinuousClock.now + .seconds(30)
        while heard.withLock({ $0.isEmpty }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let sent = try #require(heard.withLock { $0.first })
        guard case .step(let step) = sent else { throw ConsoleTestError("the first event is \(sent)") }
        #expect(step.ok, "\(step)")
        let cancelled = ContinuousClock.now
        task.cancel()
        await task.value
        #expect(ContinuousClock.now - cancelled < .seconds(5))
        #expect(heard.withLock { $0.last } == .end(RunEnd(ok: false, summary: "The run was cancelled.")))
    }

    @Test("Verify streams the relay's refusal as a failed end, and the relay test shows its report")
    func verifyAndRelay() async throws {
        let store = try await adminDesk()
        try await Self.app(store).test(.router) { client in
            let admin = try await signIn(client, as: "root@desk.test")
            let events = try await Self.startRun(client, "verify", "help@desk.test", admin)
            let received = Self.events(String(buffer: try await Self.get(client, events, admin.cookie).body))
            #expect(received.map(\.name) == ["end"])
            let end = try JSONDecoder().decode(RunEnd.self, from: Data(try #require(received.first).data.utf8))
            #expect(!end.ok && end.summary.contains("no SMTP relay is set"))
            let unset = try await Self.post(client, "/admin/relay/test", admin.cookie, [("csrf", admin.csrf)])
            #expect(unset.status == .badRequest)
        }
        let servers = try await MailServers.shared()
        try await store.setSMTP(
            host: "127.0.0.1", port: servers.smtpPort, tls: .none, caFile: nil, fromAddress: "help@desk.test",
            username: nil, password: nil)
        try await Self.app(store).test(.router) { client in
            let admin = try await signIn(client, as: "root@desk.test")
            let report = try await Self.post(client, "/admin/relay/test", admin.cookie, [("csrf", admin.csrf)])
            #expect(report.status == .ok)
            let html = String(buffer: report.body)
            #expect(html.contains("<li class=\"step ok\">✓ Connect to SMTP relay 127.0.0.1:\(servers.smtpPort)"))
            #expect(html.contains("✓ Sender help@desk.test: MAIL FROM accepted, then RSET; no mail sent"))
        }
    }
}
