import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database and its attachments while the server runs (consistent, online).",
        discussion: """
            The running server writes the copy, so DIR must be writable by the server's user. It holds
            postdesk.sqlite, attachments/, backup.json (written last) and, unless --without-secret-key,
            secret.key: keep such a backup as private as the data directory itself.

            Example:
              postdesk backup /var/backups/postdesk/$(date +%F)
            """)
    @OptionGroup var options: AdminOptions
    @Argument(help: "A new or empty directory for the backup.") var directory: String
    @Flag(help: "Leave out the key that seals stored passwords (then back it up separately).")
    var withoutSecretKey = false

    func run() async throws {
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        let body = BackupBody(directory: absolute, includeSecretKey: !withoutSecretKey)
        let data = try await admin { try await options.client.raw(.POST, "/v1/backup", body: body) }
        if options.json { return printJSON(data) }
        let manifest = try decodeAnswer(BackupManifest.self, data)
        print(
            "Backed up to \(absolute): \(manifest.requests) requests, \(manifest.comments) comments, "
                + "\(manifest.inbound) inbound mails, \(manifest.attachments.count) attachment files (schema \(manifest.schema))."
        )
        print(
            manifest.includesSecretKey
                ? "It includes secret.key: keep it as private as the data directory."
                : "It does not include the secret key: stored passwords need the key file from the data directory.")
    }
}

struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into the data directory of a stopped server.",
        discussion: """
            Every attachment is checked against its SHA-256 and the database against the backup's manifest
            before anything is written. The data directory must have no database and no server running.

            Example:
              postdesk restore /var/backups/postdesk/2026-12-01 \\
                  --data-dir /var/lib/postdesk
            """)
    @Argument(help: "A directory written by postdesk backup.") var directory: String
    @Option(help: "The data directory to restore into.") var dataDir: String
    @Option(help: "Where the key goes (default DATA_DIR/secret.key), as serve --secret-key-file.")
    var secretKeyFile: String?

    func run() throws {
        do {
            let manifest = try DataDirectoryBackup.restore(
                from: URL(fileURLWithPath: directory, isDirectory: true),
                into: URL(fileURLWithPath: dataDir, isDirectory: true),
                secretKeyFile: secretKeyFile.map { URL(fileURLWithPath: $0) })
            print(
                "Restored into \(dataDir): \(manifest.requests) requests, \(manifest.comments) comments, "
                    + "\(manifest.attachments.count) attachment files (backup of \(manifest.createdAt.shortText), schema \(manifest.schema))."
            )
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}
