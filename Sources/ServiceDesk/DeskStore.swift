import Foundation
import GRDB

/// The desk's database, SQLite in the data directory or PostgreSQL shared by nodes, with intention-named methods that
/// each run in one transaction.
public struct DeskStore: Sendable {
    /// Where the transactions of methods written against `SQLSession` run.
    let backend: any SQLBackend
    /// The SQLite database itself, for what only SQLite has (its backup API, and tests that reach below the store
    /// through `writeSQLite` and `readSQLite`); nil on PostgreSQL.
    let writer: (any DatabaseWriter)?
    let secrets: SecretBox
    /// Where attachment bytes live, one file per SHA-256 (content-addressed).
    public let attachmentDirectory: URL
    /// Who may store fetched mail, on several nodes; nil: this node alone runs every mailbox.
    public var intakeFence: (any IntakeFence)?
    /// Which node attempts each stored mail, on several nodes; nil: this node's router alone attempts every mail.
    public var processingClaims: (any ProcessingClaims)?
    /// Attachment bytes live in the database (`attachmentBlob`, PostgreSQL without a shared directory), and
    /// `attachmentDirectory` is this node's cache of them, filled when one is read.
    public var attachmentsInDatabase = false

    /// How a commit reaches the disk.
    public enum Durability: Sendable {
        /// `synchronous=FULL`: a commit survives power failure before the mailbox is told \Seen or
        /// DELE. The server's setting.
        case full
        /// `synchronous=NORMAL` in WAL mode: faster, and the last commits can be lost on power
        /// failure. Only for measuring what `full` costs (Benchmarks/).
        case normal
    }

    /// Opens (creating and migrating) the database file at `path`.
    public init(path: String, secrets: SecretBox, durability: Durability = .full) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        configuration.busyMode = .timeout(10)
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            // GRDB opens WAL pools with synchronous=NORMAL, which can lose the last commits on power
            // failure; a mailbox is told \Seen or DELE right after a commit, so the writer syncs
            // every commit (https://www.sqlite.org/pragma.html#pragma_synchronous).
            let level = durability == .full ? "FULL" : "NORMAL"
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(level)") }
            try pool.read { db in try Self.checkKnownSchema(db, path: path) }
            try Self.migrator.migrate(pool)
            self.writer = pool
            self.backend = SQLiteBackend(writer: pool)
        } catch let error as DeskError {
            throw error
        } catch {
            throw DeskError(.storage, "cannot open database \(path): \(error)")
        }
        self.secrets = secrets
        self.attachmentDirectory = URL(fileURLWithPath: path).deletingLastPathComponent()
            .appendingPathComponent("attachments", isDirectory: true)
    }

    /// An in-memory store, for tests; attachments go to a fresh temporary directory.
    public static func inMemory() throws -> DeskStore {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "postdesk-attachments-\(UUID().uuidString)", isDirectory: true)
        return try DeskStore(queue: DatabaseQueue(), secrets: SecretBox(), attachmentDirectory: directory)
    }

    private init(queue: DatabaseQueue, secrets: SecretBox, attachmentDirectory: URL) throws {
        try Self.migrator.migrate(queue)
        self.writer = queue
        self.backend = SQLiteBackend(writer: queue)
        self.secrets = secrets
        self.attachmentDirectory = attachmentDirectory
    }

    /// A store on another backend (PostgreSQL, from PostgresStore), already migrated; attachments in `attachmentDirectory`.
    public init(backend: any SQLBackend, secrets: SecretBox, attachmentDirectory: URL) {
        self.backend = backend
        self.writer = nil
        self.secrets = secrets
        self.attachmentDirectory = attachmentDirectory
    }

    /// Which SQL the store's backend speaks.
    public var dialect: SQLDialect { backend.dialect }

    /// Ends the backend's connections (PostgreSQL's pool; nothing for SQLite, whose pool closes with the store).
    public func close() async { await backend.close() }

    /// Migrations are strings, never edited once shipped.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE project (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        key TEXT NOT NULL UNIQUE,
                        name TEXT NOT NULL,
                        signup TEXT NOT NULL,
                        nextRequestNumber INTEGER NOT NULL,
                        createdAt DATETIME NOT NULL
                    );
                    CREATE TABLE requestType (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        projectId INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
                        name TEXT NOT NULL,
                        fields TEXT NOT NULL,
                        UNIQUE (projectId, name)
                    );
                    CREATE TABLE channel (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        projectId INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
                        address TEXT NOT NULL UNIQUE,
                        accountKey TEXT NOT NULL UNIQUE,
                        protocol TEXT NOT NULL,
                        host TEXT NOT NULL,
                        port INTEGER NOT NULL,
                        tls TEXT NOT NULL,
                        caFile TEXT,
                        username TEXT NOT NULL,
                        secret BLOB NOT NULL,
                        requestTypeId INTEGER NOT NULL REFERENCES requestType(id),
                        enabled BOOLEAN NOT NULL,
                        linkedAt DATETIME NOT NULL,
                        uidValidity INTEGER,
                        uidNextAtLink INTEGER
                    );
                    CREATE TABLE customer (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        projectId INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
                        address TEXT NOT NULL,
                        name TEXT,
                        createdAt DATETIME NOT NULL,
                        UNIQUE (projectId, address)
                    );
                    CREATE TABLE request (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        projectId INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
                        key TEXT NOT NULL UNIQUE,
                        requestTypeId INTEGER NOT NULL REFERENCES requestType(id),
                        channelId INTEGER REFERENCES channel(id) ON DELETE SET NULL,
                        summary TEXT NOT NULL,
                        description TEXT NOT NULL,
                        status TEXT NOT NULL,
                        reporter TEXT NOT NULL,
                        createdAt DATETIME NOT NULL,
                        updatedAt DATETIME NOT NULL
                    );
                    CREATE INDEX request_project ON request(projectId, id);
                    CREATE TABLE inbound (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        channelId INTEGER NOT NULL REFERENCES channel(id) ON DELETE CASCADE,
                        dedupeKey TEXT NOT NULL,
                        messageId TEXT,
                        raw BLOB NOT NULL,
                        mailboxUid TEXT,
                        fetchedAt DATETIME NOT NULL,
                        processedAt DATETIME,
                        fromAddress TEXT,
                        subject TEXT,
                        outcome TEXT,
                        detail TEXT,
                        requestKey TEXT,
                        UNIQUE (channelId, dedupeKey)
                    );
                    CREATE INDEX inbound_pending ON inbound(processedAt, id);
                    CREATE TABLE comment (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        requestId INTEGER NOT NULL REFERENCES request(id) ON DELETE CASCADE,
                        author TEXT NOT NULL,
                        body TEXT NOT NULL,
                        isPublic BOOLEAN NOT NULL,
                        source TEXT NOT NULL,
                        inboundId INTEGER REFERENCES inbound(id),
                        createdAt DATETIME NOT NULL
                    );
                    CREATE INDEX comment_request ON comment(requestId, id);
                    CREATE TABLE messageIndex (
                        messageId TEXT NOT NULL PRIMARY KEY,
                        requestId INTEGER NOT NULL REFERENCES request(id) ON DELETE CASCADE,
                        createdAt DATETIME NOT NULL
                    );
                    CREATE TABLE outbox (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        requestId INTEGER NOT NULL REFERENCES request(id) ON DELETE CASCADE,
                        commentId INTEGER REFERENCES comment(id),
                        messageId TEXT NOT NULL UNIQUE,
                        envelopeFrom TEXT NOT NULL,
                        recipients TEXT NOT NULL,
                        raw BLOB NOT NULL,
                        status TEXT NOT NULL,
                        attempts INTEGER NOT NULL,
                        nextAttemptAt DATETIME NOT NULL,
                        lastReply TEXT,
                        createdAt DATETIME NOT NULL,
                        sentAt DATETIME
                    );
                    CREATE INDEX outbox_due ON outbox(status, nextAttemptAt);
                    CREATE TABLE smtpSettings (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        host TEXT NOT NULL,
                        port INTEGER NOT NULL,
                        tls TEXT NOT NULL,
                        caFile TEXT,
                        fromAddress TEXT NOT NULL,
                        username TEXT,
                        secret BLOB
                    );
                    """
            )
        }
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    ALTER TABLE channel ADD COLUMN pop3LinkedUIDLs TEXT;
                    ALTER TABLE channel ADD COLUMN provider TEXT NOT NULL DEFAULT 'custom';
                    ALTER TABLE channel ADD COLUMN extraAddresses TEXT NOT NULL DEFAULT '[]';
                    ALTER TABLE channel ADD COLUMN authMethod TEXT NOT NULL DEFAULT 'password';
                    CREATE TABLE channelAddress (
                        address TEXT NOT NULL PRIMARY KEY,
                        channelId INTEGER NOT NULL REFERENCES channel(id) ON DELETE CASCADE
                    );
                    INSERT INTO channelAddress (address, channelId) SELECT address, id FROM channel;
                    CREATE TABLE customerRule (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        projectId INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
                        kind TEXT NOT NULL,
                        pattern TEXT NOT NULL,
                        UNIQUE (projectId, kind, pattern)
                    );
                    CREATE TABLE participant (
                        requestId INTEGER NOT NULL REFERENCES request(id) ON DELETE CASCADE,
                        address TEXT NOT NULL,
                        PRIMARY KEY (requestId, address)
                    );
                    CREATE TABLE attachment (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        requestId INTEGER NOT NULL REFERENCES request(id) ON DELETE CASCADE,
                        commentId INTEGER REFERENCES comment(id) ON DELETE CASCADE,
                        inboundId INTEGER REFERENCES inbound(id),
                        filename TEXT NOT NULL,
                        contentType TEXT NOT NULL,
                        size INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        isInline BOOLEAN NOT NULL
                    );
                    CREATE INDEX attachment_request ON attachment(requestId);
                    CREATE TABLE mailboxEvent (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        channelId INTEGER NOT NULL REFERENCES channel(id) ON DELETE CASCADE,
                        mailboxUid TEXT NOT NULL,
                        time DATETIME NOT NULL,
                        fromAddress TEXT,
                        subject TEXT,
                        outcome TEXT NOT NULL,
                        detail TEXT,
                        requestKey TEXT,
                        inboundId INTEGER REFERENCES inbound(id),
                        UNIQUE (channelId, mailboxUid, outcome)
                    );
                    ALTER TABLE inbound ADD COLUMN notes TEXT;
                    """
            )
        }
        migrator.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    CREATE TABLE verification (
                        token TEXT NOT NULL PRIMARY KEY,
                        channelId INTEGER NOT NULL REFERENCES channel(id) ON DELETE CASCADE,
                        createdAt DATETIME NOT NULL,
                        sendReply TEXT,
                        sendError TEXT,
                        requestKey TEXT,
                        outcome TEXT,
                        detail TEXT
                    );
                    """
            )
        }
        migrator.registerMigration("v4") { db in
            try db.execute(sql: "ALTER TABLE smtpSettings ADD COLUMN authMethod TEXT NOT NULL DEFAULT 'password'")
        }
        migrator.registerMigration("v5-outbox") { db in
            try db.execute(sql: "ALTER TABLE outbox ADD COLUMN refusedRecipients TEXT NOT NULL DEFAULT '{}'")
        }
        migrator.registerMigration("v6-inbound") { db in
            try db.execute(
                sql: """
                    ALTER TABLE inbound ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE inbound ADD COLUMN contentHash TEXT;
                    ALTER TABLE inbound ADD COLUMN rateExempt BOOLEAN NOT NULL DEFAULT 0;
                    CREATE INDEX inbound_sender ON inbound(channelId, fromAddress, fetchedAt);
                    CREATE INDEX inbound_outcome ON inbound(outcome, id);
                    """
            )
        }
        // The admin's OAuth 2.0 app registrations (issue 11); the client secret is sealed by SecretBox.
        migrator.registerMigration("v7-oauth-app") { db in
            try db.execute(
                sql: """
                    CREATE TABLE oauthApp (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                        provider TEXT NOT NULL,
                        clientId TEXT NOT NULL,
                        secret BLOB,
                        tenant TEXT,
                        authorizationURL TEXT,
                        tokenURL TEXT NOT NULL,
                        deviceAuthorizationURL TEXT,
                        scopes TEXT NOT NULL DEFAULT '[]',
                        caFile TEXT,
                        createdAt DATETIME NOT NULL
                    );
                    """
            )
        }
        // The grants the OAuth flows bring (issue 11): one per channel or for the relay, tokens sealed by SecretBox.
        migrator.registerMigration("v8-oauth-grant") { db in
            try db.execute(
                sql: """
                    CREATE TABLE oauthGrant (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        appId INTEGER NOT NULL REFERENCES oauthApp(id) ON DELETE RESTRICT,
                        channelId INTEGER UNIQUE REFERENCES channel(id) ON DELETE CASCADE,
                        relay INTEGER NOT NULL DEFAULT 0,
                        refreshToken BLOB NOT NULL,
                        accessToken BLOB,
                        accessExpiresAt DATETIME,
                        grantedAt DATETIME NOT NULL,
                        lastRefreshAt DATETIME,
                        refreshCount INTEGER NOT NULL DEFAULT 0,
                        failure TEXT,
                        failedAt DATETIME,
                        CHECK ((channelId IS NOT NULL) <> (relay = 1))
                    );
                    CREATE UNIQUE INDEX oauthGrant_relay ON oauthGrant(relay) WHERE relay = 1;
                    """
            )
        }
        // Agents, their console sessions and one-time password links, request assignment, the console's search
        // index and the queue's change counter (issue 12). Tokens are stored as their SHA-256, never as given.
        // Search: FTS5 with the trigram tokenizer (SQLite 3.34+), because unicode61 does not split Japanese into
        // words; its two tables index the rows of `request` and `comment` in place (external content,
        // https://www.sqlite.org/fts5.html#external_content_tables), rebuilt here for existing rows. New rows are
        // indexed after their commit by `indexSearchText` (up to `searchCursor`), not by triggers: trigram indexing
        // in the intake transaction doubled the drain's CPU per mail. Edits and deletes of indexed rows are kept by
        // triggers.
        migrator.registerMigration("v9-agents") { db in
            try db.execute(
                sql: """
                    CREATE TABLE agent (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL,
                        disabled BOOLEAN NOT NULL DEFAULT 0,
                        locale TEXT,
                        passwordHash TEXT,
                        createdAt DATETIME NOT NULL
                    );
                    CREATE TABLE agentSession (
                        tokenHash BLOB NOT NULL PRIMARY KEY,
                        agentId INTEGER NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
                        csrfToken TEXT NOT NULL,
                        createdAt DATETIME NOT NULL,
                        expiresAt DATETIME NOT NULL
                    );
                    CREATE INDEX agentSession_agent ON agentSession(agentId);
                    CREATE INDEX agentSession_expiry ON agentSession(expiresAt);
                    CREATE TABLE passwordSetup (
                        tokenHash BLOB NOT NULL PRIMARY KEY,
                        agentId INTEGER NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
                        createdAt DATETIME NOT NULL,
                        expiresAt DATETIME NOT NULL
                    );
                    CREATE INDEX passwordSetup_agent ON passwordSetup(agentId);
                    ALTER TABLE request ADD COLUMN assigneeId INTEGER REFERENCES agent(id) ON DELETE SET NULL;
                    CREATE INDEX request_assignee ON request(assigneeId);

                    CREATE VIRTUAL TABLE requestText USING fts5(
                        summary, description, content='request', content_rowid='id', tokenize='trigram');
                    CREATE VIRTUAL TABLE commentText USING fts5(
                        requestId UNINDEXED, body, content='comment', content_rowid='id', tokenize='trigram');
                    CREATE TABLE searchCursor (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        requestId INTEGER NOT NULL,
                        commentId INTEGER NOT NULL
                    );
                    INSERT INTO searchCursor (id, requestId, commentId)
                        VALUES (1, (SELECT COALESCE(MAX(id), 0) FROM request), (SELECT COALESCE(MAX(id), 0) FROM comment));
                    CREATE TRIGGER request_text_update AFTER UPDATE OF summary, description ON request
                    WHEN (old.summary IS NOT new.summary OR old.description IS NOT new.description)
                        AND old.id <= (SELECT requestId FROM searchCursor WHERE id = 1) BEGIN
                        INSERT INTO requestText (requestText, rowid, summary, description)
                        VALUES ('delete', old.id, old.summary, old.description);
                        INSERT INTO requestText (rowid, summary, description)
                        VALUES (new.id, new.summary, new.description);
                    END;
                    CREATE TRIGGER request_text_delete AFTER DELETE ON request
                    WHEN old.id <= (SELECT requestId FROM searchCursor WHERE id = 1) BEGIN
                        INSERT INTO requestText (requestText, rowid, summary, description)
                        VALUES ('delete', old.id, old.summary, old.description);
                    END;
                    CREATE TRIGGER comment_text_update AFTER UPDATE OF body ON comment
                    WHEN old.body IS NOT new.body AND old.id <= (SELECT commentId FROM searchCursor WHERE id = 1) BEGIN
                        INSERT INTO commentText (commentText, rowid, requestId, body)
                        VALUES ('delete', old.id, old.requestId, old.body);
                        INSERT INTO commentText (rowid, requestId, body) VALUES (new.id, new.requestId, new.body);
                    END;
                    CREATE TRIGGER comment_text_delete AFTER DELETE ON comment
                    WHEN old.id <= (SELECT commentId FROM searchCursor WHERE id = 1) BEGIN
                        INSERT INTO commentText (commentText, rowid, requestId, body)
                        VALUES ('delete', old.id, old.requestId, old.body);
                    END;
                    INSERT INTO requestText (requestText) VALUES ('rebuild');
                    INSERT INTO commentText (commentText) VALUES ('rebuild');

                    CREATE TABLE queueVersion (
                        projectId INTEGER NOT NULL PRIMARY KEY REFERENCES project(id) ON DELETE CASCADE,
                        version INTEGER NOT NULL
                    );
                    INSERT INTO queueVersion (projectId, version) SELECT id, 1 FROM project;
                    CREATE TRIGGER request_version_insert AFTER INSERT ON request BEGIN
                        INSERT INTO queueVersion (projectId, version) VALUES (new.projectId, 1)
                        ON CONFLICT (projectId) DO UPDATE SET version = version + 1;
                    END;
                    CREATE TRIGGER request_version_update AFTER UPDATE ON request BEGIN
                        INSERT INTO queueVersion (projectId, version) VALUES (new.projectId, 1)
                        ON CONFLICT (projectId) DO UPDATE SET version = version + 1;
                    END;
                    CREATE TRIGGER comment_version_insert AFTER INSERT ON comment BEGIN
                        INSERT INTO queueVersion (projectId, version)
                        SELECT projectId, 1 FROM request WHERE id = new.requestId
                        ON CONFLICT (projectId) DO UPDATE SET version = version + 1;
                    END;
                    """
            )
        }
        // Tokens of the HTTP API for integrations (issue 12): only their SHA-256 is kept.
        migrator.registerMigration("v10-api-token") { db in
            try db.execute(
                sql: """
                    CREATE TABLE apiToken (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                        role TEXT NOT NULL,
                        tokenHash BLOB NOT NULL UNIQUE,
                        createdAt DATETIME NOT NULL,
                        lastUsedAt DATETIME
                    );
                    """
            )
        }
        // Outbound webhooks (issue 12): deliveries written by triggers in the change's transaction (DeskStore+Webhooks).
        migrator.registerMigration("v11-webhook", migrate: migrateWebhooks)
        // Per-project notification templates (issue 12): a row overrides the built-in template of its kind and
        // language; the "request received" acknowledgement is off until a project turns it on.
        migrator.registerMigration("v12-notification-template") { db in
            try db.execute(
                sql: """
                    ALTER TABLE project ADD COLUMN notifyReceived BOOLEAN NOT NULL DEFAULT 0;
                    CREATE TABLE notificationTemplate (
                        projectId INTEGER NOT NULL REFERENCES project(id) ON DELETE CASCADE,
                        kind TEXT NOT NULL,
                        language TEXT NOT NULL,
                        subject TEXT,
                        text TEXT NOT NULL,
                        html TEXT,
                        updatedAt DATETIME NOT NULL,
                        PRIMARY KEY (projectId, kind, language)
                    );
                    """
            )
        }
        return migrator
    }

    /// Runs `body` in one write transaction on the store's backend.
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        do {
            return try await backend.write(body)
        } catch let error as DeskError {
            throw error
        } catch let error as FencedOut {
            throw error
        } catch {
            throw DeskError(.storage, "database write failed: \(error)")
        }
    }

    /// Runs `body` on one consistent snapshot of the store's backend.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        do {
            return try await backend.read(body)
        } catch let error as DeskError {
            throw error
        } catch {
            throw DeskError(.storage, "database read failed: \(error)")
        }
    }

    /// Runs `updates` in one SQLite write transaction through GRDB itself (tests that reach below the store).
    func writeSQLite<T: Sendable>(
        function: String = #function, _ updates: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        guard let writer else { throw Self.notOnThisBackend(function) }
        do {
            return try await writer.write(updates)
        } catch let error as DeskError {
            throw error
        } catch {
            throw DeskError(.storage, "database write failed: \(error)")
        }
    }

    /// Runs `value` on one SQLite snapshot through GRDB itself (tests that reach below the store).
    func readSQLite<T: Sendable>(
        function: String = #function, _ value: @escaping @Sendable (Database) throws -> T
    ) async throws -> T {
        guard let writer else { throw Self.notOnThisBackend(function) }
        do {
            return try await writer.read(value)
        } catch let error as DeskError {
            throw error
        } catch {
            throw DeskError(.storage, "database read failed: \(error)")
        }
    }

    static func notOnThisBackend(_ function: String) -> DeskError {
        DeskError(.storage, "\(function) reaches SQLite itself, and this store is on PostgreSQL")
    }
}
