import Foundation
import HTTPTypes
import Hummingbird
import ServiceDesk

/// `/v1/tokens` on the admin socket: the HTTP API's tokens, created (secret shown once), listed and revoked. They
/// are not reachable over the HTTP listener, so a token cannot make more tokens.
struct APITokenRoutes: Sendable {
    let store: DeskStore

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.post { request, context in
            let body = try await request.decode(as: APITokenBody.self, context: context)
            let (token, secret) = try await store.createAPIToken(name: body.name, role: body.role)
            return created(APITokenCreated(token: token, secret: secret))
        }
        group.get { _, _ in try await store.apiTokens() }
        group.delete(":name") { _, context in
            let name = try context.parameters.require("name")
            try await store.revokeAPIToken(name: name)
            return APITokenCreated.Revoked(revoked: name)
        }
    }
}

extension APITokenCreated {
    /// The answer of `DELETE /v1/tokens/{name}`.
    public struct Revoked: Codable, Sendable, ResponseEncodable {
        public var revoked: String
    }
}

extension APITokenCreated: ResponseEncodable {}
extension APIToken: ResponseEncodable {}

/// What an API token may do on the HTTP listener: an admin token every `/v1` route there, an agent token only what
/// an agent does in the console (read projects, queues and requests; comment).
enum APITokenAccess {
    static func allows(_ role: AgentRole, method: HTTPRequest.Method, path: String) -> Bool {
        if role == .admin { return true }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (method, parts.count) {
        case (.get, 2): return parts == ["v1", "projects"]
        case (.get, 4): return parts[1] == "projects" && parts[3] == "queue"
        case (.get, 3): return parts[1] == "requests"
        case (.post, 4): return parts[1] == "requests" && parts[3] == "comments"
        default: return false
        }
    }
}

/// Authorizes every request of the HTTP API by its bearer token (RFC 6750 §2.1): none or an unknown one is 401
/// with `WWW-Authenticate: Bearer`, a role without the right 403.
struct APITokenMiddleware: RouterMiddleware {
    typealias Context = AdminRequestContext
    let store: DeskStore

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        let secret = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces) : ""
        guard !secret.isEmpty, let token = try await store.apiToken(secret: secret) else {
            var response = try Self.error(.unauthorized, "an API token is needed: Authorization: Bearer pd_…")
            response.headers[.wwwAuthenticate] = "Bearer realm=\"postdesk\""
            return response
        }
        guard APITokenAccess.allows(token.role, method: request.method, path: request.uri.path) else {
            return try Self.error(.forbidden, "token \(token.name) (role \(token.role.rawValue)) may not do this")
        }
        return try await next(request, context)
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) throws -> Response {
        var response = Response(
            status: status,
            body: .init(byteBuffer: ByteBuffer(data: try AdminJSON.encoder().encode(ErrorBody(error: message)))))
        response.headers[.contentType] = "application/json"
        return response
    }
}
