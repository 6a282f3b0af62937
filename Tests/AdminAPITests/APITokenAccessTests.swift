import HTTPTypes
import ServiceDesk
import Testing

@testable import AdminAPI

@Suite("What an API token's role may do")
struct APITokenAccessTests {
    @Test("an agent token reads projects, queues and requests and comments; nothing else; an admin token all")
    func agentRole() {
        let allowed: [(HTTPRequest.Method, String)] = [
            (.get, "/v1/projects"), (.get, "/v1/projects/SD/queue"), (.get, "/v1/requests/SD-1"),
            (.post, "/v1/requests/SD-1/comments"),
        ]
        let refused: [(HTTPRequest.Method, String)] = [
            (.post, "/v1/projects"), (.get, "/v1/channels"), (.put, "/v1/smtp"), (.get, "/v1/log"),
            (.post, "/v1/projects/SD/channels"), (.get, "/v1/oauth/apps"), (.delete, "/v1/projects/SD/customer-rules"),
            (.get, "/v1/requests/SD-1/comments/x"), (.get, "/v1/projects/SD/customers"),
        ]
        for (method, path) in allowed {
            #expect(APITokenAccess.allows(.agent, method: method, path: path), "\(method) \(path)")
        }
        for (method, path) in refused {
            #expect(!APITokenAccess.allows(.agent, method: method, path: path), "\(method) \(path)")
            #expect(APITokenAccess.allows(.admin, method: method, path: path))
        }
    }
}
