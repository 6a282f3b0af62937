import Foundation
import MailServerHarness
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The HTTP API for integrations through the real binary: `postdesk token create` prints a secret once; on the
/// `--http-listen` port the admin socket's `/v1` routes answer only to a bearer token, within its role.
@Suite("HTTP API tokens, end to end", .serialized, .timeLimit(.minutes(2)))
struct APITokenTests {
    /// One HTTP/1.0 request on 127.0.0.1:`port`; the status code and the body.
    static func call(
        port: Int, _ method: String, _ path: String, token: String? = nil, body: String? = nil
    ) throws -> (status: Int, body: String) {
        let fd = try LoopbackSocket.connect(port: port, timeoutSeconds: 20)
        defer { close(fd) }
        var request = "\(method) \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let token { request += "Authorization: Bearer \(token)\r\n" }
        if let body {
            request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            request += "\r\n"
        }
        try LoopbackSocket.send(Array(request.utf8), to: fd, what: "\(method) \(path)")
        let answer = String(decoding: try LoopbackSocket.readToEnd(fd, what: "answer"), as: UTF8.self)
        let status = Int(answer.split(separator: " ").dropFirst().first ?? "") ?? 0
        let text = answer.range(of: "\r\n\r\n").map { String(answer[$0.upperBound...]) } ?? ""
        return (status, text)
    }

    @Test("tokens: shown once, stored hashed, admin and agent roles, revoked at once; none or a bad one is 401")
    func tokens() async throws {
        let port = try freeLoopbackPort()
        let desk = try PostdeskProcess()
        try await desk.start(arguments: ["--http-listen", "127.0.0.1:\(port)"])
        try desk.createProject("SD", name: "Service Desk", signup: "public")

        let created = try desk.ok(["token", "create", "--name", "ops", "--role", "admin"])
        let adminSecret = try #require(created.split(separator: "\n").last.map(String.init))
        #expect(adminSecret.hasPrefix("pd_"), "\(created)")
        let agentOut = try desk.ok(["token", "create", "--name", "crm", "--role", "agent"])
        let agentSecret = try #require(agentOut.split(separator: "\n").last.map(String.init))
        #expect(try desk.run(["token", "create", "--name", "OPS", "--role", "agent"]).status != 0, "names are unique")
        let list = try desk.ok(["token", "list"])
        #expect(list.contains("ops") && list.contains("crm") && !list.contains(adminSecret))

        // No token, a malformed one, an unknown one: 401 with the scheme named (RFC 6750 §3).
        #expect(try Self.call(port: port, "GET", "/v1/projects").status == 401)
        #expect(try Self.call(port: port, "GET", "/v1/projects", token: "nonsense").status == 401)
        #expect(
            try Self.call(port: port, "GET", "/v1/projects", token: "pd_" + String(repeating: "A", count: 43)).status
                == 401)

        let projects = try Self.call(port: port, "GET", "/v1/projects", token: adminSecret)
        #expect(projects.status == 200)
        #expect(projects.body.contains("\"SD\""), "\(projects.body)")
        let made = try Self.call(
            port: port, "POST", "/v1/projects", token: adminSecret, body: #"{"key":"HR","name":"HR","signup":"public"}"#
        )
        #expect(made.status == 201, "\(made.body)")
        // The agent role reads queues but does not administer.
        #expect(try Self.call(port: port, "GET", "/v1/projects/SD/queue", token: agentSecret).status == 200)
        let refused = try Self.call(
            port: port, "POST", "/v1/projects", token: agentSecret, body: #"{"key":"XX","name":"X","signup":"public"}"#)
        #expect(refused.status == 403, "\(refused.body)")
        // Token management and backups stay on the admin socket.
        #expect(try Self.call(port: port, "GET", "/v1/tokens", token: adminSecret).status == 404)
        // The console keeps the rest of the port.
        #expect(try Self.call(port: port, "GET", "/login").status == 200)

        try desk.ok(["token", "revoke", "ops"])
        #expect(try Self.call(port: port, "GET", "/v1/projects", token: adminSecret).status == 401)
        #expect(!desk.serverLog.contains(adminSecret) && !desk.serverLog.contains(agentSecret))
        try await desk.stop()
    }
}
