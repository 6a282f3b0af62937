import Foundation

/// Body of `POST /v1/agents`: a new agent, with a password or without (then a one-time link sets it).
public struct AgentBody: Codable, Sendable {
    public var email: String
    public var name: String
    public var role: AgentRole
    /// Read by the CLI from a file, never from its command line; hashed with bcrypt, never stored or logged.
    public var password: String?

    public init(email: String, name: String, role: AgentRole, password: String? = nil) {
        self.email = email
        self.name = name
        self.role = role
        self.password = password
    }
}

/// The answer of `POST /v1/agents`: the agent, and for one added without a password the console path of its
/// one-time password link (`/password/<token>`, valid 48 hours), shown once.
public struct AgentAdded: Codable, Sendable {
    public var agent: Agent
    public var setupPath: String?

    /// Makes the value from its fields.
    public init(agent: Agent, setupPath: String? = nil) {
        self.agent = agent
        self.setupPath = setupPath
    }
}

/// The answer of `GET /v1/console`: where the web console listens, for links the CLI prints; nil when the
/// server was started without `--http-listen`.
public struct ConsoleInfoView: Codable, Sendable {
    /// The console's base address, e.g. `https://desk.example.com` (no trailing slash).
    public var address: String?

    public init(address: String?) {
        self.address = address
    }
}
