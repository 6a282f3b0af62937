import Foundation

extension DeskStore {
    // MARK: OAuth 2.0 app registrations

    /// Checks and stores an app registration, its client secret sealed; a name already taken (in any
    /// case) is a conflict.
    public func addOAuthApp(_ draft: OAuthAppDraft) async throws -> OAuthApp {
        let app = try Self.checked(draft, secrets: secrets)
        return try await write { db in
            if try OAuthApp.fetchOne(
                db, sql: "SELECT * FROM oauthApp WHERE lower(name) = lower(?)", arguments: [app.name])
                != nil
            {
                throw DeskError.conflict(
                    "an OAuth app named \(app.name) already exists; remove it first or choose another name")
            }
            var stored = app
            try stored.insert(db)
            return stored
        }
    }

    /// Every app registration, by name. The sealed secret stays in the record: callers show only
    /// `hasSecret`.
    public func oauthApps() async throws -> [OAuthApp] {
        try await read { db in try OAuthApp.fetchAll(db, sql: "SELECT * FROM oauthApp ORDER BY lower(name)") }
    }

    /// Removes an app registration, refusing while a channel or the relay logs in with it.
    public func removeOAuthApp(name: String) async throws {
        try await write { db in
            guard
                let app = try OAuthApp.fetchOne(
                    db, sql: "SELECT * FROM oauthApp WHERE lower(name) = lower(?)", arguments: [name]),
                let id = app.id
            else {
                throw DeskError.notFound("no OAuth app named \(name); postdesk oauth app list shows them")
            }
            if let refusal = try Self.usage(ofOAuthApp: id, in: db).refusal(name: app.name) { throw refusal }
            try db.execute(sql: "DELETE FROM oauthApp WHERE id = ?", arguments: [id])
        }
    }

    /// Who logs in with the app, read in the remove's transaction.
    static func usage(ofOAuthApp id: Int64, in db: any SQLSession) throws -> OAuthAppUsage {
        let channels = try String.fetchAll(
            db,
            sql:
                "SELECT channel.address FROM oauthGrant JOIN channel ON channel.id = oauthGrant.channelId WHERE oauthGrant.appId = ?",
            arguments: [id])
        let relay =
            try Bool.fetchOne(
                db, sql: "SELECT 1 FROM oauthGrant WHERE appId = ? AND relay = 1", arguments: [id]) ?? false
        return OAuthAppUsage(channels: channels, relay: relay)
    }

    /// The record a draft becomes, after every check that needs no database.
    static func checked(_ draft: OAuthAppDraft, secrets: SecretBox) throws -> OAuthApp {
        let name = draft.name.trimmingCharacters(in: .whitespaces)
        guard isValidOAuthAppName(name) else {
            throw DeskError.invalid(
                "OAuth app name \"\(draft.name)\" is not valid: use 1–64 letters, digits, '.', '-' or '_', starting with a letter or digit"
            )
        }
        // client-id and client-secret = *VSCHAR (RFC 6749 Appendix A.1, A.2).
        let clientId = draft.clientId.trimmingCharacters(in: .whitespaces)
        guard !clientId.isEmpty, clientId.count <= 512, isVisibleASCII(clientId) else {
            throw DeskError.invalid("the client id must be 1–512 printable ASCII characters")
        }
        if let secret = draft.clientSecret {
            guard !secret.isEmpty, secret.utf8.count <= 4096, isVisibleASCII(secret) else {
                throw DeskError.invalid("the client secret must be 1–4096 printable ASCII characters")
            }
        }
        var usesHTTPS = try OAuthEndpointRule.check(draft.tokenURL, what: "--token-url")
        guard draft.authorizationURL != nil || draft.deviceAuthorizationURL != nil else {
            throw DeskError.invalid(
                "an OAuth app needs --device-authorization-url (the device flow) or --authorization-url (the browser flow), or both"
            )
        }
        for (url, what) in [
            (draft.authorizationURL, "--authorization-url"),
            (draft.deviceAuthorizationURL, "--device-authorization-url"),
        ] {
            if let url { usesHTTPS = try OAuthEndpointRule.check(url, what: what) || usesHTTPS }
        }
        var scopes: [String] = []
        for scope in draft.scopes where !scopes.contains(scope) {
            // scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) (RFC 6749 §3.3)
            guard !scope.isEmpty,
                scope.utf8.allSatisfy({ $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) })
            else {
                throw DeskError.invalid(
                    "scope \"\(scope)\" is not valid: a scope has no spaces, quotes or backslashes (RFC 6749 §3.3)")
            }
            scopes.append(scope)
        }
        if let caFile = draft.caFile {
            guard usesHTTPS else {
                throw DeskError.invalid("--ca-file is for https endpoints; these are all plain http")
            }
            guard caFile.hasPrefix("/") else { throw DeskError.invalid("--ca-file \(caFile) must be an absolute path") }
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw DeskError.invalid("--ca-file \(caFile) cannot be read by the server")
            }
        }
        return OAuthApp(
            name: name, provider: draft.provider, clientId: clientId,
            secret: try draft.clientSecret.map { try secrets.seal($0) }, tenant: draft.tenant,
            authorizationURL: draft.authorizationURL, tokenURL: draft.tokenURL,
            deviceAuthorizationURL: draft.deviceAuthorizationURL, scopes: scopes, caFile: draft.caFile,
            createdAt: Date())
    }

    static func isValidOAuthAppName(_ name: String) -> Bool {
        guard (1...64).contains(name.utf8.count), let first = name.unicodeScalars.first,
            isAlphanumeric(first)
        else { return false }
        return name.unicodeScalars.allSatisfy { isAlphanumeric($0) || ".-_".unicodeScalars.contains($0) }
    }

    private static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// VSCHAR = %x20-7E (RFC 6749 Appendix A).
    private static func isVisibleASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }
}
