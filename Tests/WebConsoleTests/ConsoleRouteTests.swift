import Foundation
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import Logging
import ServiceDesk
import Testing

@testable import WebConsole

/// A desk with project SD, one channel, an agent with a password, and the mails given, processed.
func consoleDesk(mails: [String] = []) async throws -> DeskStore {
    let store = try DeskStore.inMemory()
    _ = try await store.createProject(key: "SD", name: "Service Desk", signup: .public)
    _ = try await store.addRequestType(
        projectKey: "SD", name: "Get help",
        fields: [
            RequestField(name: "summary", visible: true, required: true),
            RequestField(name: "description", visible: true, required: true),
        ])
    let channel = try await store.linkChannel(
        ChannelDraft(
            projectKey: "SD", address: "help@desk.test", protocol: .imap, host: "127.0.0.1", port: 143, tls: .none,
            caFile: nil, username: "help@desk.test", password: "secret", requestTypeName: "Get help"),
        watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
    let channelId = try #require(channel.id)
    for (index, mail) in mails.enumerated() {
        let raw = Array(mail.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        guard case .stored(let id) = try await store.receive(channelId: channelId, raw: raw, mailboxUid: "\(index)")
        else { throw ConsoleTestError("mail \(index) was not stored") }
        _ = try await store.process(MailReading(raw: raw), inboundId: id)
    }
    _ = try await store.addAgent(
        email: "ada@desk.test", name: "Ada Agent", role: .agent,
        passwordHash: Bcrypt.hash("correct horse battery", cost: 4))
    return store
}

struct ConsoleTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func mail(subject: String, body: String = "Please help.", id: String = UUID().uuidString) -> String {
    """
    From: Carol <carol@customer.test>
    To: help@desk.test
    Subject: \(subject)
    Message-ID: <\(id)@customer.test>
    Date: Tue, 01 Dec 2026 10:00:00 +0000
    Content-Type: text/plain; charset=utf-8

    \(body)

    """
}

/// The cookies a response sets, by name (value only).
func cookies(_ response: TestResponse) -> [String: String] {
    var found: [String: String] = [:]
    for line in response.headers[values: .setCookie] {
        let pair = line.split(separator: ";").first.map(String.init) ?? ""
        let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
        if parts.count == 2 { found[parts[0]] = parts[1] } else if parts.count == 1 { found[parts[0]] = "" }
    }
    return found
}

/// The value of the hidden `csrf` input of a page.
func csrf(in html: String) -> String? {
    guard let range = html.range(of: "name=\"csrf\" value=\"") else { return nil }
    return String(html[range.upperBound...].prefix { $0 != "\"" })
}

func form(_ fields: [(String, String)]) -> ByteBuffer {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return ByteBuffer(
        string: fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
            .joined(separator: "&"))
}

let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

/// Signs in as Ada through the login form; the session cookie header and the page's CSRF token.
func signIn(_ client: some TestClientProtocol) async throws -> (cookie: String, csrf: String) {
    let page = try await client.execute(uri: "/login", method: .get)
    let loginToken = try #require(cookies(page)[ConsoleSessions.loginCookieName])
    let token = try #require(csrf(in: String(buffer: page.body)))
    var headers = formHeaders
    headers[.cookie] = "\(ConsoleSessions.loginCookieName)=\(loginToken)"
    let answer = try await client.execute(
        uri: "/login", method: .post, headers: headers,
        body: form([("email", "ADA@desk.test"), ("password", "correct horse battery"), ("csrf", token)]))
    #expect(answer.status == .seeOther)
    let session = try #require(cookies(answer)[ConsoleSessions.cookieName])
    let cookie = "\(ConsoleSessions.cookieName)=\(session)"
    let queue = try await client.execute(uri: "/projects/SD/queue", method: .get, headers: [.cookie: cookie])
    return (cookie, try #require(csrf(in: String(buffer: queue.body))))
}

@Suite("Web console routes")
struct ConsoleRouteTests {
    static func app(_ store: DeskStore) throws -> some ApplicationProtocol {
        Application(
            router: try WebConsole.router(
                store: store, notifier: nil, network: ConsoleNetwork(), logger: Logger(label: "console-test")))
    }

    @Test("signed out: pages lead to /login, fragments and downloads are 401; every answer carries the CSP")
    func signedOut() async throws {
        let store = try await consoleDesk()
        try await Self.app(store).test(.router) { client in
            for path in ["/", "/projects/SD/queue", "/requests/SD-1", "/settings"] {
                let answer = try await client.execute(uri: path, method: .get)
                #expect(answer.status == .seeOther, "\(path)")
                #expect(answer.headers[.location] == "/login", "\(path)")
            }
            for path in ["/projects/SD/queue/rows", "/attachments/1"] {
                #expect(try await client.execute(uri: path, method: .get).status == .unauthorized, "\(path)")
            }
            let login = try await client.execute(uri: "/login", method: .get)
            #expect(login.status == .ok)
            let policy = try #require(login.headers[.contentSecurityPolicy])
            #expect(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"))
            #expect(login.headers[.xContentTypeOptions] == "nosniff")
            let cookie = try #require(login.headers[values: .setCookie].first)
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"))
        }
    }

    @Test("sign-in: no CSRF token is 403, a wrong password 401, five failures lock the address, the right one signs in")
    func signInRules() async throws {
        let store = try await consoleDesk()
        try await Self.app(store).test(.router) { client in
            let page = try await client.execute(uri: "/login", method: .get)
            let loginToken = try #require(cookies(page)[ConsoleSessions.loginCookieName])
            let token = try #require(csrf(in: String(buffer: page.body)))
            var headers = formHeaders
            headers[.cookie] = "\(ConsoleSessions.loginCookieName)=\(loginToken)"
            let noToken = try await client.execute(
                uri: "/login", method: .post, headers: headers,
                body: form([("email", "ada@desk.test"), ("password", "correct horse battery")]))
            #expect(noToken.status == .forbidden)
            for _ in 0..<5 {
                let wrong = try await client.execute(
                    uri: "/login", method: .post, headers: headers,
                    body: form([("email", "ada@desk.test"), ("password", "wrong"), ("csrf", token)]))
                #expect(wrong.status == .unauthorized)
                #expect(String(buffer: wrong.body).contains("The email or password is wrong."))
            }
            let locked = try await client.execute(
                uri: "/login", method: .post, headers: headers,
                body: form([("email", "ada@desk.test"), ("password", "correct horse battery"), ("csrf", token)]))
            #expect(locked.status == .tooManyRequests)
            #expect(cookies(locked)[ConsoleSessions.cookieName] == nil)
        }
        // Another address from elsewhere is not locked by these; an unknown address fails like a wrong password.
        let fresh = try await consoleDesk()
        try await Self.app(fresh).test(.router) { client in
            let session = try await signIn(client)
            #expect(!session.csrf.isEmpty)
        }
    }

    @Test("the queue lists open requests with hostile subjects escaped; the rows fragment matches")
    func queue() async throws {
        let store = try await consoleDesk(mails: [
            mail(subject: "Printer jammed"), mail(subject: "<script>window.__pwned=1</script>"),
            mail(subject: "日本語の件名"),
        ])
        try await Self.app(store).test(.router) { client in
            let session = try await signIn(client)
            let page = try await client.execute(
                uri: "/projects/SD/queue", method: .get, headers: [.cookie: session.cookie])
            let html = String(buffer: page.body)
            #expect(page.status == .ok)
            #expect(html.contains("data-key=\"SD-1\""))
            #expect(html.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"))
            #expect(!html.contains("<script>window"))
            #expect(html.contains("日本語の件名"))
            #expect(html.contains("<script src=\"/static/console.js\" defer></script>"))
            let rows = try await client.execute(
                uri: "/projects/SD/queue/rows?filter=open", method: .get, headers: [.cookie: session.cookie])
            #expect(String(buffer: rows.body).contains("data-key=\"SD-3\""))
            let unknown = try await client.execute(
                uri: "/projects/NOPE/queue", method: .get, headers: [.cookie: session.cookie])
            #expect(unknown.status == .notFound)
        }
    }

    @Test("a reply without its CSRF token is 403 and stores nothing; with it, a reply and an internal note are stored")
    func replies() async throws {
        let store = try await consoleDesk(mails: [mail(subject: "Printer jammed")])
        try await Self.app(store).test(.router) { client in
            let session = try await signIn(client)
            var headers = formHeaders
            headers[.cookie] = session.cookie
            let refused = try await client.execute(
                uri: "/requests/SD-1/comments", method: .post, headers: headers,
                body: form([("body", "sneaky"), ("kind", "public")]))
            #expect(refused.status == .forbidden)
            let forged = try await client.execute(
                uri: "/requests/SD-1/comments", method: .post, headers: headers,
                body: form([("body", "sneaky"), ("kind", "public"), ("csrf", "forged")]))
            #expect(forged.status == .forbidden)
            #expect(try await store.request(key: "SD-1").comments.isEmpty)

            let reply = try await client.execute(
                uri: "/requests/SD-1/comments", method: .post, headers: headers,
                body: form([("body", "We are on it"), ("kind", "public"), ("csrf", session.csrf)]))
            #expect(reply.status == .seeOther)
            let note = try await client.execute(
                uri: "/requests/SD-1/comments", method: .post, headers: headers,
                body: form([("body", "Check the toner"), ("kind", "internal"), ("csrf", session.csrf)]))
            #expect(note.status == .seeOther)
            let comments = try await store.request(key: "SD-1").comments
            #expect(comments.map(\.isPublic) == [true, false])
            #expect(comments.first?.author == "ada@desk.test")
            let page = String(
                buffer: try await client.execute(
                    uri: "/requests/SD-1", method: .get, headers: [.cookie: session.cookie]
                )
                .body)
            #expect(page.contains("class=\"comment internal\""))
            #expect(page.contains("We are on it"))
        }
    }

    @Test("Accept-Language picks Japanese, by weight; the agent's own choice wins")
    func language() async throws {
        #expect(ConsoleLocale.choose(agent: nil, acceptLanguage: "ja,en;q=0.8") == .ja)
        #expect(ConsoleLocale.choose(agent: nil, acceptLanguage: "fr, en;q=0.5, ja;q=0.9") == .ja)
        #expect(ConsoleLocale.choose(agent: nil, acceptLanguage: "de") == .en)
        #expect(ConsoleLocale.choose(agent: .en, acceptLanguage: "ja") == .en)
        #expect(ConsoleLocale.choose(agent: nil, acceptLanguage: String(repeating: "x;q=,", count: 10_000)) == .en)
        let store = try await consoleDesk()
        try await Self.app(store).test(.router) { client in
            let page = try await client.execute(
                uri: "/login", method: .get, headers: [.acceptLanguage: "ja-JP,ja;q=0.9"])
            let html = String(buffer: page.body)
            #expect(html.contains("<html lang=\"ja\">"))
            #expect(html.contains("サインイン"))
        }
    }

    @Test("a download is opaque bytes with the file name made safe (RFC 6266)")
    func disposition() {
        let header = ConsoleRoutes.disposition("\"><script>x</script>.txt")
        #expect(header.hasPrefix("attachment; filename=\"_><script>x</script>.txt\"; filename*=UTF-8''"))
        #expect(!header.dropFirst("attachment; filename=\"".count).dropLast(1).contains("\"\""))
        #expect(ConsoleRoutes.disposition("請求書.pdf").contains("filename*=UTF-8''%E8%AB%8B"))
    }
}

@Suite("Web console: setting a password from a one-time link")
struct ConsolePasswordTests {
    @Test("the link shows the form once; a short or mismatched password is refused; then it signs in and is spent")
    func setupLink() async throws {
        let store = try await consoleDesk()
        let agent = try await store.addAgent(email: "new@desk.test", name: "New", role: .agent, passwordHash: nil)
        let token = ConsoleSessions.randomToken()
        try await store.createPasswordSetup(
            agentId: agent.id, tokenHash: ConsoleSessions.hash(token), expiresAt: Date().addingTimeInterval(3600))
        try await ConsoleRouteTests.app(store).test(.router) { client in
            #expect(try await client.execute(uri: "/password/unknown", method: .get).status == .gone)
            let page = try await client.execute(uri: "/password/\(token)", method: .get)
            #expect(page.status == .ok)
            let csrfToken = try #require(csrf(in: String(buffer: page.body)))
            var headers = formHeaders
            headers[.cookie] =
                "\(ConsoleSessions.loginCookieName)=\(try #require(cookies(page)[ConsoleSessions.loginCookieName]))"
            let short = try await client.execute(
                uri: "/password/\(token)", method: .post, headers: headers,
                body: form([("password", "short"), ("repeat", "short"), ("csrf", csrfToken)]))
            #expect(short.status == .badRequest)
            let differ = try await client.execute(
                uri: "/password/\(token)", method: .post, headers: headers,
                body: form([("password", "long enough one"), ("repeat", "long enough two"), ("csrf", csrfToken)]))
            #expect(differ.status == .badRequest)
            let set = try await client.execute(
                uri: "/password/\(token)", method: .post, headers: headers,
                body: form([("password", "long enough one"), ("repeat", "long enough one"), ("csrf", csrfToken)]))
            #expect(set.status == .seeOther)
            #expect(cookies(set)[ConsoleSessions.cookieName]?.isEmpty == false)
            #expect(try await store.agentLogin(email: "new@desk.test")?.passwordHash != nil)
            #expect(try await client.execute(uri: "/password/\(token)", method: .get).status == .gone)
        }
    }
}
