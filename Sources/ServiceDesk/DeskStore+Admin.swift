import Foundation

/// A mailbox to link, as the admin described it.
public struct ChannelDraft: Sendable {
    public var projectKey: String
    public var address: String
    public var `protocol`: MailboxProtocol
    public var host: String
    public var port: Int
    public var tls: ServerTLS
    public var caFile: String?
    public var username: String
    /// The password, or for OAuth 2 the token file's path or the token command.
    public var password: String
    public var requestTypeName: String
    public var provider: MailProvider = .custom
    public var extraAddresses: [String] = []
    public var authMethod: AuthMethod = .password
    /// The admin accepts `tls: .none` to a server that is not on this machine.
    public var insecurePlaintext = false

    public init(
        projectKey: String,
        address: String,
        protocol: MailboxProtocol,
        host: String,
        port: Int,
        tls: ServerTLS,
        caFile: String?,
        username: String,
        password: String,
        requestTypeName: String,
        provider: MailProvider = .custom,
        extraAddresses: [String] = [],
        authMethod: AuthMethod = .password,
        insecurePlaintext: Bool = false
    ) {
        self.insecurePlaintext = insecurePlaintext
        self.provider = provider
        self.extraAddresses = extraAddresses
        self.authMethod = authMethod
        self.projectKey = projectKey
        self.address = address
        self.protocol = `protocol`
        self.host = host
        self.port = port
        self.tls = tls
        self.caFile = caFile
        self.username = username
        self.password = password
        self.requestTypeName = requestTypeName
    }
}

/// Where the mailbox stood when it was linked: only mail after this point is new.
public struct LinkWatermark: Sendable {
    public var uidValidity: Int64?
    public var uidNext: Int64?
    /// POP3: the UIDLs of the messages present at link time.
    public var pop3UIDLs: [String]?

    public init(uidValidity: Int64?, uidNext: Int64?, pop3UIDLs: [String]? = nil) {
        self.uidValidity = uidValidity
        self.uidNext = uidNext
        self.pop3UIDLs = pop3UIDLs
    }
}

/// A channel with its password opened, for the runtime only; never serialised.
public struct RunnableChannel: Sendable, Equatable {
    public var channel: Channel
    public var password: String
    public var projectKey: String

    public init(channel: Channel, password: String, projectKey: String) {
        self.channel = channel
        self.password = password
        self.projectKey = projectKey
    }
}

/// The SMTP relay settings with the password opened, for the notifier only.
public struct RelaySettings: Sendable, Equatable {
    public var settings: SMTPSettings
    public var password: String?
}

extension DeskStore {
    // MARK: Projects

    /// Creates a project; keys are 2–10 capital letters or digits starting with a letter.
    public func createProject(key: String, name: String, signup: SignupPolicy) async throws -> Project {
        let key = key.uppercased()
        guard Self.isValidProjectKey(key) else {
            throw DeskError.invalid(
                "project key \"\(key)\" is not valid: use 2–10 letters or digits, starting with a letter")
        }
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw DeskError.invalid("project name must not be empty") }
        return try await write { db in
            if try Project.fetchOne(db, sql: "SELECT * FROM project WHERE key = ?", arguments: [key]) != nil {
                throw DeskError.conflict("project \(key) already exists")
            }
            var project = Project(
                id: nil, key: key, name: name, signup: signup, nextRequestNumber: 1, createdAt: Date())
            try project.insert(db)
            return project
        }
    }

    static func isValidProjectKey(_ key: String) -> Bool {
        guard (2...10).contains(key.count), let first = key.unicodeScalars.first, ("A"..."Z").contains(first) else {
            return false
        }
        return key.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    /// All projects, by key.
    public func projects() async throws -> [Project] {
        try await read { db in try Project.fetchAll(db, sql: "SELECT * FROM project ORDER BY key") }
    }

    static func project(_ key: String, in db: any SQLSession) throws -> Project {
        guard
            let project = try Project.fetchOne(
                db, sql: "SELECT * FROM project WHERE key = ?", arguments: [key.uppercased()])
        else {
            throw DeskError.notFound("unknown project \(key.uppercased())")
        }
        return project
    }

    // MARK: Request types

    /// Adds a request type with its fields to a project.
    public func addRequestType(projectKey: String, name: String, fields: [RequestField]) async throws -> RequestType {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw DeskError.invalid("request type name must not be empty") }
        let names = fields.map { $0.name.lowercased() }
        guard Set(names).count == names.count else {
            throw DeskError.invalid("request type \"\(name)\" names a field twice")
        }
        return try await write { db in
            let project = try Self.project(projectKey, in: db)
            guard let projectId = project.id else { throw DeskError(.storage, "project without id") }
            if try RequestType.fetchOne(
                db, sql: "SELECT * FROM requestType WHERE projectId = ? AND name = ?", arguments: [projectId, name])
                != nil
            {
                throw DeskError.conflict("request type \"\(name)\" already exists in project \(project.key)")
            }
            var type = RequestType(id: nil, projectId: projectId, name: name, fields: fields)
            try type.insert(db)
            return type
        }
    }

    /// The request types of a project.
    public func requestTypes(projectKey: String) async throws -> [RequestType] {
        try await read { db in
            let project = try Self.project(projectKey, in: db)
            return try RequestType.fetchAll(
                db, sql: "SELECT * FROM requestType WHERE projectId = ? ORDER BY name", arguments: [project.id])
        }
    }

    // MARK: Customers

    /// Adds a customer to a project (addresses compare case-insensitively).
    public func addCustomer(projectKey: String, address: String, name: String?) async throws -> Customer {
        guard let address = AddressNormalizer.normalize(address) else {
            throw DeskError.invalid("\"\(address)\" is not an email address")
        }
        return try await write { db in
            let project = try Self.project(projectKey, in: db)
            guard let projectId = project.id else { throw DeskError(.storage, "project without id") }
            if try Self.customer(address, projectId: projectId, in: db) != nil {
                throw DeskError.conflict("\(address) is already a customer of project \(project.key)")
            }
            var customer = Customer(id: nil, projectId: projectId, address: address, name: name, createdAt: Date())
            try customer.insert(db)
            return customer
        }
    }

    /// The customers of a project.
    public func customers(projectKey: String) async throws -> [Customer] {
        try await read { db in
            let project = try Self.project(projectKey, in: db)
            return try Customer.fetchAll(
                db, sql: "SELECT * FROM customer WHERE projectId = ? ORDER BY address", arguments: [project.id])
        }
    }

    static func customer(_ address: String, projectId: Int64, in db: any SQLSession) throws -> Customer? {
        try Customer.fetchOne(
            db, sql: "SELECT * FROM customer WHERE projectId = ? AND address = ?", arguments: [projectId, address])
    }

    /// Whether a sender may raise requests through a channel: blocked senders never; otherwise
    /// anyone under public signup, and under restricted signup the project's customers and the
    /// addresses and domains on its allow list.
    public func admission(sender: String, channelId: Int64) async throws -> Admission {
        try await read { db in
            guard let channel = try Channel.fetchOne(db, id: channelId),
                let project = try Project.fetchOne(db, id: channel.projectId)
            else { return .notCustomer }
            return try Self.admission(for: sender, project: project, in: db)
        }
    }

    static func admission(for address: String, project: Project, in db: any SQLSession) throws -> Admission {
        guard let projectId = project.id else { return .notCustomer }
        let domain = "@" + (address.split(separator: "@").last.map(String.init) ?? "")
        let rules = try db.fetchAll(
            sql: "SELECT kind, pattern FROM customerRule WHERE projectId = ? AND pattern IN (?, ?)",
            arguments: [projectId, address, domain]
        ).map {
            (
                kind: try $0.decode(String.self, forColumn: "kind"),
                pattern: try $0.decode(String.self, forColumn: "pattern")
            )
        }
        if let blocked = rules.first(where: { $0.kind == CustomerRuleKind.block.rawValue }) {
            return .blocked(blocked.pattern)
        }
        if project.signup == .public { return .admitted }
        if try customer(address, projectId: projectId, in: db) != nil { return .admitted }
        if rules.contains(where: { $0.kind == CustomerRuleKind.allow.rawValue }) { return .admitted }
        return .notCustomer
    }

    /// Adds an address (`a@b.c`) or a domain (`@b.c` or `b.c`) to a project's allow or block list.
    public func addCustomerRule(projectKey: String, kind: CustomerRuleKind, pattern: String) async throws -> String {
        var text = pattern.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if !text.contains("@") { text = "@" + text }
        guard
            text.hasPrefix("@")
                ? text.count > 2 && !text.dropFirst().contains("@") : AddressNormalizer.normalize(text) != nil
        else {
            throw DeskError.invalid("\"\(pattern)\" is neither an address nor a domain")
        }
        let normalized = text
        return try await write { db in
            let project = try Self.project(projectKey, in: db)
            try db.execute(
                sql: "INSERT INTO customerRule (projectId, kind, pattern) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [project.id, kind.rawValue, normalized])
            return normalized
        }
    }

    /// Removes an entry from a project's allow or block list.
    public func removeCustomerRule(projectKey: String, kind: CustomerRuleKind, pattern: String) async throws {
        var text = pattern.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if !text.contains("@") { text = "@" + text }
        let normalized = text
        try await write { db in
            let project = try Self.project(projectKey, in: db)
            let removed = try db.execute(
                sql: "DELETE FROM customerRule WHERE projectId = ? AND kind = ? AND pattern = ?",
                arguments: [project.id, kind.rawValue, normalized])
            if removed == 0 {
                throw DeskError.notFound("\(normalized) is not on the \(kind.rawValue) list of \(project.key)")
            }
        }
    }

    /// A project's allow and block lists.
    public func customerRules(projectKey: String) async throws -> [(kind: CustomerRuleKind, pattern: String)] {
        try await read { db in
            let project = try Self.project(projectKey, in: db)
            return try db.fetchAll(
                sql: "SELECT kind, pattern FROM customerRule WHERE projectId = ? ORDER BY kind, pattern",
                arguments: [project.id]
            ).compactMap { row in
                try CustomerRuleKind(rawValue: row["kind"]).map { ($0, try row["pattern"]) }
            }
        }
    }

    // MARK: SMTP relay

    /// Sets the relay notifications are sent through; `insecurePlaintext` accepts `tls: .none` to
    /// a relay that is not on this machine.
    public func setSMTP(
        host: String, port: Int, tls: ServerTLS, caFile: String?, fromAddress: String, username: String?,
        password: String?, authMethod: AuthMethod = .password, insecurePlaintext: Bool = false,
        grant: (appId: Int64, tokens: OAuthTokenSet)? = nil
    ) async throws {
        guard (authMethod == .oauth2App) == (grant != nil) else {
            throw DeskError.invalid("an OAuth 2.0 relay is set with the grant of a flow, and only such a relay")
        }
        let grantRow = try grant.map { try sealedRow(owner: .relay, appId: $0.appId, tokens: $0.tokens, at: Date()) }
        try TransportSecurity.permit(host: host, tls: tls, insecurePlaintext: insecurePlaintext, what: "the SMTP relay")
        guard let from = AddressNormalizer.normalize(fromAddress) else {
            throw DeskError.invalid("\"\(fromAddress)\" is not an email address")
        }
        guard (1...65535).contains(port) else { throw DeskError.invalid("port \(port) is out of range") }
        let secret = try password.map { try secrets.seal($0) }
        let settings = SMTPSettings(
            host: host, port: port, tls: tls, caFile: caFile, fromAddress: from, username: username, secret: secret,
            authMethod: authMethod)
        try await write { db in
            try settings.upsert(db)
            // The relay's grant lives as long as its settings say OAuth: another login method drops it.
            if let grantRow {
                try Self.replaceGrant(grantRow, in: db)
            } else {
                try db.execute(sql: "DELETE FROM oauthGrant WHERE relay = 1")
            }
        }
    }

    /// The relay with its password, or nil when none is set.
    public func relay() async throws -> RelaySettings? {
        guard let settings = try await read({ db in try SMTPSettings.fetchOne(db, id: 1) }) else { return nil }
        return RelaySettings(settings: settings, password: try settings.secret.map { try secrets.open($0) })
    }

    // MARK: Channels

    /// Checks everything about a new channel that can be checked without its server: the project,
    /// the request type and the one-address-one-project rule.
    public func validate(_ draft: ChannelDraft) async throws {
        _ = try await read { db in try Self.check(draft, in: db) }
    }

    static func check(_ draft: ChannelDraft, in db: any SQLSession) throws -> (
        Project, RequestType, String, [String], String
    ) {
        guard let address = AddressNormalizer.normalize(draft.address) else {
            throw DeskError.invalid("\"\(draft.address)\" is not an email address")
        }
        var extras: [String] = []
        for extra in draft.extraAddresses {
            guard let normalized = AddressNormalizer.normalize(extra) else {
                throw DeskError.invalid("\"\(extra)\" is not an email address")
            }
            if normalized != address, !extras.contains(normalized) { extras.append(normalized) }
        }
        // Push delivery (LMTP) has no server to reach: no port, no TLS, no account but the address itself.
        let isPush = draft.protocol == .lmtp
        guard isPush || (1...65535).contains(draft.port) else {
            throw DeskError.invalid("port \(draft.port) is out of range")
        }
        if !isPush {
            try TransportSecurity.permit(
                host: draft.host, tls: draft.tls, insecurePlaintext: draft.insecurePlaintext,
                what: "the \(draft.protocol.rawValue.uppercased()) server")
        }
        let project = try project(draft.projectKey, in: db)
        for candidate in [address] + extras {
            if let ownerId = try Int64.fetchOne(
                db, sql: "SELECT channelId FROM channelAddress WHERE address = ?", arguments: [candidate]),
                let existing = try Channel.fetchOne(db, id: ownerId)
            {
                let owner = try Project.fetchOne(db, id: existing.projectId)?.key ?? "another project"
                throw DeskError.conflict(
                    "the address \(candidate) is already linked to project \(owner); an address can be linked to only one project"
                )
            }
        }
        let accountKey =
            isPush ? "lmtp:" + address : AddressNormalizer.accountKey(host: draft.host, username: draft.username)
        if let existing = try Channel.fetchOne(
            db, sql: "SELECT * FROM channel WHERE accountKey = ?", arguments: [accountKey])
        {
            let owner = try Project.fetchOne(db, id: existing.projectId)?.key ?? "another project"
            throw DeskError.conflict(
                "the mailbox \(draft.username) on \(draft.host) is already linked as \(existing.address) (project \(owner)); another alias of the same account cannot be linked again; add it to that channel with --extra-address instead"
            )
        }
        guard
            let type = try RequestType.fetchOne(
                db, sql: "SELECT * FROM requestType WHERE projectId = ? AND name = ?",
                arguments: [project.id, draft.requestTypeName])
        else {
            throw DeskError.notFound("project \(project.key) has no request type \"\(draft.requestTypeName)\"")
        }
        if let reason = type.unsuitability {
            throw DeskError(.unsuitableRequestType, "request type \"\(type.name)\" cannot receive email: \(reason)")
        }
        return (project, type, address, extras, accountKey)
    }

    /// Links a channel at the watermark its server reported.
    /// Stores a checked channel with its watermark and, for `.oauth2App`, the flow's grant in the same transaction.
    public func linkChannel(
        _ draft: ChannelDraft, watermark: LinkWatermark, grant: (appId: Int64, tokens: OAuthTokenSet)? = nil
    ) async throws -> Channel {
        let secret = try secrets.seal(draft.password)
        guard (draft.authMethod == .oauth2App) == (grant != nil) else {
            throw DeskError.invalid("an OAuth 2.0 channel is linked with the grant of a flow, and only such a channel")
        }
        let grantRow = try grant.map { try sealedRow(owner: .relay, appId: $0.appId, tokens: $0.tokens, at: Date()) }
        return try await write { db in
            let (project, type, address, extras, accountKey) = try Self.check(draft, in: db)
            guard let projectId = project.id, let typeId = type.id else { throw DeskError(.storage, "row without id") }
            var channel = Channel(
                id: nil, projectId: projectId, address: address, accountKey: accountKey, protocol: draft.protocol,
                host: draft.host, port: draft.port, tls: draft.tls, caFile: draft.caFile, username: draft.username,
                secret: secret, requestTypeId: typeId, enabled: true, linkedAt: Date(),
                uidValidity: watermark.uidValidity, uidNextAtLink: watermark.uidNext,
                pop3LinkedUIDLs: watermark.pop3UIDLs, provider: draft.provider, extraAddresses: extras,
                authMethod: draft.authMethod)
            try channel.insert(db)
            for linked in [address] + extras {
                try db.execute(
                    sql: "INSERT INTO channelAddress (address, channelId) VALUES (?, ?)",
                    arguments: [linked, channel.id])
            }
            if var grantRow, let id = channel.id {
                (grantRow.channelId, grantRow.relay) = (id, false)
                try Self.replaceGrant(grantRow, in: db)
            }
            return channel
        }
    }

    /// All channels with their project keys.
    public func channels() async throws -> [(channel: Channel, projectKey: String)] {
        try await read { db in try Self.channelsWithProjectKeys(where: nil, in: db) }
    }

    /// Channels and their projects' keys in one query (a join, not a project fetch per channel), by address;
    /// `condition` is SQL on the `channel` table's columns.
    static func channelsWithProjectKeys(
        where condition: String?, arguments: SQLArguments = [], in db: any SQLSession
    ) throws -> [(channel: Channel, projectKey: String)] {
        let filter = condition.map { "WHERE \($0)" } ?? ""
        let rows = try db.fetchAll(
            sql: """
                SELECT channel.*, project.key AS postdeskProjectKey FROM channel
                LEFT JOIN project ON project.id = channel.projectId \(filter) ORDER BY channel.address
                """, arguments: arguments)
        return try rows.map { row in
            (try Channel(row: row), try row.decode(String?.self, forColumn: "postdeskProjectKey") ?? "?")
        }
    }

    /// One channel (by its address or an extra address) with its password opened, enabled or not.
    public func runnableChannel(address: String) async throws -> RunnableChannel {
        let found = try await read { db -> (Channel, String) in
            guard
                let channelId = try Int64.fetchOne(
                    db, sql: "SELECT channelId FROM channelAddress WHERE address = ?", arguments: [address.lowercased()]
                ),
                let channel = try Channel.fetchOne(db, id: channelId)
            else { throw DeskError.notFound("no channel with address \(address)") }
            return (channel, try Project.fetchOne(db, id: channel.projectId)?.key ?? "?")
        }
        return RunnableChannel(channel: found.0, password: try secrets.open(found.0.secret), projectKey: found.1)
    }

    /// The enabled channels, with passwords opened, for the supervisor: one query, whatever their number.
    public func runnableChannels() async throws -> [RunnableChannel] {
        let rows = try await read { db in try Self.channelsWithProjectKeys(where: "channel.enabled = 1", in: db) }
        return try opened(rows)
    }

    /// Those of `ids` that are enabled, with passwords opened: what the supervisor reads when it knows which
    /// channels changed. Ids without a channel (removed) are simply absent.
    public func runnableChannels(ids: Set<Int64>) async throws -> [RunnableChannel] {
        var rows: [(channel: Channel, projectKey: String)] = []
        // Chunks keep each statement within SQLite's historical limit of 999 bound parameters.
        let sorted = ids.sorted()
        for start in stride(from: 0, to: sorted.count, by: 500) {
            let chunk = Array(sorted[start..<min(start + 500, sorted.count)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            rows += try await read { db in
                try Self.channelsWithProjectKeys(
                    where: "channel.enabled = 1 AND channel.id IN (\(placeholders))",
                    arguments: SQLArguments(chunk.map(\.sqlValue)), in: db)
            }
        }
        return try opened(rows)
    }

    /// One channel by id with its password opened, enabled or not; nil when there is no such channel.
    public func runnableChannel(id: Int64) async throws -> RunnableChannel? {
        let rows = try await read { db in
            try Self.channelsWithProjectKeys(where: "channel.id = ?", arguments: [id], in: db)
        }
        return try opened(rows).first
    }

    private func opened(_ rows: [(channel: Channel, projectKey: String)]) throws -> [RunnableChannel] {
        try rows.map { row in
            RunnableChannel(
                channel: row.channel, password: try secrets.open(row.channel.secret), projectKey: row.projectKey)
        }
    }
}
