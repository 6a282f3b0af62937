import Foundation

/// How one mailbox of an import stands against what is already linked.
public enum LinkPlan: Sendable, Equatable {
    /// Nothing links the address or its account yet: test the mailbox and link it.
    case new
    /// The address is linked in the same project with exactly these settings: nothing to do, and its watermark
    /// stays where it is.
    case alreadyLinked(Channel)
    /// The address or its account is linked with other settings or to another project: what differs, for the admin.
    case conflict(String)
    /// The mailbox itself is wrong (an unknown project or request type, a bad address or port, plaintext): why.
    case invalid(DeskError)
}

extension DeskStore {
    /// The plan for each draft, all judged in one read transaction, so that an import is checked whole before
    /// anything is linked. Judging a draft reads a few indexed rows: linear in the number of drafts.
    public func linkPlans(_ drafts: [ChannelDraft]) async throws -> [LinkPlan] {
        let secrets = self.secrets
        return try await read { db in try drafts.map { try Self.plan($0, secrets: secrets, in: db) } }
    }

    private static func plan(_ draft: ChannelDraft, secrets: SecretBox, in db: any SQLSession) throws -> LinkPlan {
        if let address = AddressNormalizer.normalize(draft.address),
            let existing = try Channel.fetchOne(
                db, sql: "SELECT * FROM channel WHERE address = ?", arguments: [address]),
            let project = try Project.fetchOne(db, id: existing.projectId),
            project.key == draft.projectKey.uppercased()
        {
            let typeName = try String.fetchOne(
                db, sql: "SELECT name FROM requestType WHERE id = ?", arguments: [existing.requestTypeId])
            let differences = differences(
                existing, draft, address: address, typeName: typeName ?? "?", secret: try secrets.open(existing.secret))
            guard differences.isEmpty else {
                return .conflict(
                    "\(address) is already linked to project \(project.key) with other settings, which were left "
                        + "as they are: " + differences.joined(separator: "; "))
            }
            return .alreadyLinked(existing)
        }
        do {
            _ = try check(draft, in: db)
            return .new
        } catch let error as DeskError {
            switch error.code {
            case .conflict: return .conflict(error.message)
            case .storage, .upstream: throw error
            case .invalid, .notFound, .unsuitableRequestType: return .invalid(error)
            }
        }
    }

    /// What the draft would change about a linked channel, one "what: linked X, asked Y" each; never a secret.
    private static func differences(
        _ channel: Channel, _ draft: ChannelDraft, address: String, typeName: String, secret: String
    ) -> [String] {
        var differences: [String] = []
        func compare(_ what: String, _ linked: String, _ asked: String) {
            if linked != asked { differences.append("\(what): linked \(linked), asked \(asked)") }
        }
        var extras: [String] = []
        for extra in draft.extraAddresses {
            let normalized = AddressNormalizer.normalize(extra) ?? extra
            if normalized != address, !extras.contains(normalized) { extras.append(normalized) }
        }
        compare("protocol", channel.protocol.rawValue, draft.protocol.rawValue)
        compare("provider", channel.provider.rawValue, draft.provider.rawValue)
        compare("host", channel.host.lowercased(), draft.host.lowercased())
        compare("port", "\(channel.port)", "\(draft.port)")
        compare("tls", channel.tls.rawValue, draft.tls.rawValue)
        compare("ca-file", channel.caFile ?? "none", draft.caFile ?? "none")
        compare("username", channel.username, draft.username)
        compare("request type", typeName, draft.requestTypeName)
        compare(
            "extra addresses", channel.extraAddresses.sorted().joined(separator: " ").nonEmpty ?? "none",
            extras.sorted().joined(separator: " ").nonEmpty ?? "none")
        if channel.authMethod != draft.authMethod {
            compare("login", channel.authMethod.rawValue, draft.authMethod.rawValue)
        } else if secret != draft.password {
            let secretName =
                switch draft.authMethod {
                case .password: "password"
                case .oauth2File: "OAuth 2 token file"
                case .oauth2Command: "OAuth 2 token command"
                case .oauth2App: "OAuth 2.0 grant"
                }
            differences.append("the \(secretName) differs")
        }
        return differences
    }
}

extension String {
    fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
