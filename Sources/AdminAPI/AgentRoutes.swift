import Foundation
import Hummingbird
import ServiceDesk
import WebConsole

/// `/v1/agents`: console accounts, added (with a password, or a one-time link to set it), listed and disabled.
struct AgentRoutes: Sendable {
    let store: DeskStore
    /// How long a password link is valid.
    static let setupValidity: TimeInterval = 48 * 3600

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.post { request, context in
            let body = try await request.decode(as: AgentBody.self, context: context)
            var hash: String?
            if let password = body.password { hash = try await AgentPassword.hash(password) }
            let agent = try await store.addAgent(
                email: body.email, name: body.name, role: body.role, passwordHash: hash)
            var setupPath: String?
            if hash == nil {
                let token = AgentToken.generate()
                try await store.createPasswordSetup(
                    agentId: agent.id, tokenHash: token.hash, expiresAt: Date().addingTimeInterval(Self.setupValidity))
                setupPath = "/password/" + token.token
            }
            return created(AgentAdded(agent: agent, setupPath: setupPath))
        }
        group.get { _, _ in
            try await store.agents()
        }
        group.post(":email/disable") { _, context in
            let email = try context.parameters.require("email")
            return try await store.disableAgent(email: email.removingPercentEncoding ?? email)
        }
    }
}

extension Agent: ResponseEncodable {}
extension AgentAdded: ResponseEncodable {}
extension ConsoleInfoView: ResponseEncodable {}
