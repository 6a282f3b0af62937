import Foundation
import Hummingbird
import HummingbirdTesting
import ServiceDesk
import Testing
import WebConsole

@testable import AdminAPI

@Suite("The /v1/agents routes: bcrypt passwords, one-time links, list and disable")
struct AgentRouteTests {
    static func router(_ store: DeskStore) -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: AdminErrorMiddleware())
        AgentRoutes(store: store).addRoutes(to: router.group("/v1/agents"))
        return router
    }

    static func json(_ body: AgentBody) throws -> ByteBuffer {
        ByteBuffer(data: try AdminJSON.encoder().encode(body))
    }

    @Test("an agent added with a password gets its bcrypt hash (cost 12), and the password is never answered")
    func addWithPassword() async throws {
        let store = try DeskStore.inMemory()
        let password = "correct horse battery"
        let app = Application(router: Self.router(store))
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/agents", method: .post, headers: [.contentType: "application/json"],
                body: try Self.json(
                    AgentBody(email: "Alice@Desk.test", name: "Alice", role: .admin, password: password))
            ) { response in
                #expect(response.status == .created)
                #expect(!String(buffer: response.body).contains(password))
                let added = try AdminJSON.decoder().decode(AgentAdded.self, from: Data(buffer: response.body))
                #expect(added.agent.email == "alice@desk.test")
                #expect(added.agent.role == .admin)
                #expect(added.agent.passwordSet)
                #expect(added.setupPath == nil)
            }
        }
        let login = try #require(try await store.agentLogin(email: "alice@desk.test"))
        let hash = try #require(login.passwordHash)
        #expect(hash.hasPrefix("$2b$12$"), "bcrypt at cost 12: \(hash.prefix(7))")
        #expect(!hash.contains(password))
        #expect(try await AgentPassword.verify(password, hash: hash))
        #expect(try await AgentPassword.verify("correct horse battery!", hash: hash) == false)
    }

    @Test("an agent added without a password gets a one-time link of 32 random bytes, valid 48 hours")
    func addWithLink() async throws {
        let store = try DeskStore.inMemory()
        let app = Application(router: Self.router(store))
        let paths = try await app.test(.router) { client in
            var paths: [String] = []
            for email in ["bob@desk.test", "carol@desk.test"] {
                let path = try await client.execute(
                    uri: "/v1/agents", method: .post, headers: [.contentType: "application/json"],
                    body: try Self.json(AgentBody(email: email, name: "Agent", role: .agent))
                ) { response in
                    #expect(response.status == .created)
                    let added = try AdminJSON.decoder().decode(AgentAdded.self, from: Data(buffer: response.body))
                    #expect(added.agent.passwordSet == false)
                    return try #require(added.setupPath)
                }
                paths.append(path)
            }
            return paths
        }
        #expect(paths[0] != paths[1])
        let token = try #require(paths.first?.split(separator: "/").last.map(String.init))
        #expect(paths[0] == "/password/" + token)
        #expect(token.count == 43, "32 bytes in base64url without padding")
        #expect(token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        let now = Date()
        let bob = try #require(try await store.agentLogin(email: "bob@desk.test")?.agent)
        #expect(try await store.passwordSetupAgent(tokenHash: AgentToken.hash(token), now: now)?.id == bob.id)
        #expect(try await store.passwordSetupAgent(tokenHash: AgentToken.hash(token), now: now + 47 * 3600) != nil)
        #expect(try await store.passwordSetupAgent(tokenHash: AgentToken.hash(token), now: now + 48 * 3600 + 5) == nil)
        #expect(try await store.consumePasswordSetup(tokenHash: AgentToken.hash(token), now: now)?.id == bob.id)
        #expect(try await store.consumePasswordSetup(tokenHash: AgentToken.hash(token), now: now) == nil)
    }

    /// A body the route refuses, the status, and words of the answer.
    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var body: String
        var status: HTTPResponse.Status
        var words: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(
            name: "a password under 10 characters",
            body: #"{"email":"x@desk.test","name":"X","role":"agent","password":"short-pw9"}"#, status: .badRequest,
            words: "at least 10 characters"),
        Refusal(
            name: "a password over bcrypt's 72 bytes",
            body: #"{"email":"x@desk.test","name":"X","role":"agent","password":""# + String(repeating: "ä", count: 37)
                + #""}"#, status: .badRequest, words: "at most 72 bytes"),
        Refusal(
            name: "a password with a NUL, which bcrypt would cut",
            body: #"{"email":"x@desk.test","name":"X","role":"agent","password":"0123456789\u0000tail"}"#,
            status: .badRequest, words: "control characters"),
        Refusal(
            name: "an unknown role", body: #"{"email":"x@desk.test","name":"X","role":"root"}"#, status: .badRequest,
            words: "root"),
        Refusal(
            name: "not an address", body: #"{"email":"desk.test","name":"X","role":"agent"}"#, status: .badRequest,
            words: "not an email address"),
        Refusal(
            name: "an address taken in another case",
            body: #"{"email":"TAKEN@desk.test","name":"X","role":"agent"}"#, status: .conflict,
            words: "already exists"),
    ]

    @Test("refused bodies get the status that fits, store nothing, and never echo the password", arguments: refusals)
    func refused(_ refusal: Refusal) async throws {
        let store = try DeskStore.inMemory()
        _ = try await store.addAgent(email: "taken@desk.test", name: "Taken", role: .agent, passwordHash: nil)
        let app = Application(router: Self.router(store))
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/agents", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: refusal.body)
            ) { response in
                #expect(response.status == refusal.status)
                let answer = try AdminJSON.decoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                #expect(answer.error.contains(refusal.words), "\(answer.error)")
                for secret in ["short-pw9", "ääää", "tail"] { #expect(!answer.error.contains(secret)) }
            }
        }
        #expect(try await store.agents().map(\.email) == ["taken@desk.test"])
    }

    @Test("the list shows every agent by address; disable signs them out and is answered with the agent")
    func listAndDisable() async throws {
        let store = try DeskStore.inMemory()
        let zed = try await store.addAgent(email: "zed@desk.test", name: "Zed", role: .agent, passwordHash: nil)
        _ = try await store.addAgent(email: "amy+desk@desk.test", name: "Amy", role: .admin, passwordHash: "$2b$x")
        let session = AgentToken.generate()
        try await store.createSession(
            agentId: zed.id, tokenHash: session.hash, csrfToken: "csrf", expiresAt: Date() + 3600)
        let app = Application(router: Self.router(store))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/agents", method: .get) { response in
                #expect(response.status == .ok)
                #expect(!String(buffer: response.body).contains("$2b$"), "never a hash")
                let views = try AdminJSON.decoder().decode([Agent].self, from: Data(buffer: response.body))
                #expect(views.map(\.email) == ["amy+desk@desk.test", "zed@desk.test"])
                #expect(views.map(\.passwordSet) == [true, false])
                #expect(views.map(\.role) == [.admin, .agent])
                #expect(views.allSatisfy { !$0.disabled })
            }
            try await client.execute(uri: "/v1/agents/ZED%40desk.test/disable", method: .post) { response in
                #expect(response.status == .ok)
                let view = try AdminJSON.decoder().decode(Agent.self, from: Data(buffer: response.body))
                #expect(view.email == "zed@desk.test")
                #expect(view.disabled)
            }
            try await client.execute(uri: "/v1/agents/amy+desk@desk.test/disable", method: .post) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/agents/nobody@desk.test/disable", method: .post) { response in
                #expect(response.status == .notFound)
                let answer = try AdminJSON.decoder().decode(ErrorBody.self, from: Data(buffer: response.body))
                #expect(answer.error.contains("no agent with the address nobody@desk.test"), "\(answer.error)")
            }
        }
        #expect(try await store.session(tokenHash: session.hash, now: Date()) == nil)
        #expect(try await store.agents().map(\.disabled) == [true, true])
    }
}
