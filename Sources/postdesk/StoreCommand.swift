import ArgumentParser
import Foundation
import Logging
import PostdeskWire
import PostgresStore

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Move the desk's database to another backend.",
        discussion: """
            Example:
              export POSTDESK_DATABASE_URL='postgres://postdesk@db.example.com/postdesk'
              postdesk store copy --from sqlite:/var/lib/postdesk/postdesk.sqlite \\
                  --attachments-dir /srv/postdesk/attachments
            """,
        subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a stopped server's SQLite desk into an empty PostgreSQL database, and verify it.",
            discussion: """
                Stop the server first. Every desk table is copied in one transaction,
                ids as they are, and compared before it commits: row counts and a
                checksum per table; a mismatch rolls the copy back and exits 1. The
                attachment files are copied into --attachments-dir, each checked
                against its SHA-256. The database must hold no desk yet: a desk
                already there is never merged into. Stored passwords are copied
                sealed, so the PostgreSQL desk needs the same secret.key. Give the
                URL's password in POSTDESK_DATABASE_URL rather than on the command
                line.

                Examples:
                  postdesk store copy --from /var/lib/postdesk \\
                      --to postgres://postdesk@db.example.com/postdesk \\
                      --attachments-dir /srv/postdesk/attachments
                  postdesk store copy --verify-only --from /var/lib/postdesk \\
                      --attachments-dir /srv/postdesk/attachments
                """)

        @Option(help: "The SQLite desk: sqlite:PATH, a path, or a data directory (its postdesk.sqlite).")
        var from: String
        @Option(help: "The empty PostgreSQL database, postgres://… (default: $POSTDESK_DATABASE_URL).")
        var to: String?
        @Option(help: "Where the PostgreSQL desk keeps attachment files.")
        var attachmentsDir: String
        @Flag(help: "Only compare an earlier copy with its source; write nothing.")
        var verifyOnly = false
        @Flag(help: "Print JSON instead of text.")
        var json = false

        func run() async throws {
            guard let url = to ?? ProcessInfo.processInfo.environment["POSTDESK_DATABASE_URL"] else {
                printError("name the PostgreSQL database with --to postgres://… or POSTDESK_DATABASE_URL")
                throw ExitCode.failure
            }
            var logger = Logger(label: "postdesk.store")
            logger.logLevel = .error
            let path = Self.sqlitePath(from)
            let report: StoreCopyReport
            let copy: StoreCopy
            do {
                copy = try await StoreCopy.open(
                    sqlitePath: path, postgres: try PostgresLocation(url: url),
                    attachmentDirectory: URL(fileURLWithPath: attachmentsDir, isDirectory: true), logger: logger)
            } catch {
                printError("\(error)")
                throw ExitCode.failure
            }
            do {
                report = verifyOnly ? try await copy.verify() : try await copy.copy()
                await copy.close()
            } catch let mismatch as StoreCopyMismatch {
                await copy.close()
                show(mismatch.report)
                printError(mismatch.description)
                throw ExitCode.failure
            } catch {
                await copy.close()
                printError("\(error)")
                throw ExitCode.failure
            }
            show(report)
            guard !json else { return }
            let files = "\(report.attachments.files) attachment file\(report.attachments.files == 1 ? "" : "s")"
            print(
                verifyOnly
                    ? "\(copy.target.location.redacted) matches \(path): \(report.tables.count) tables, \(report.rows) rows, \(files)."
                    : "Copied \(path) into \(copy.target.location.redacted): \(report.tables.count) tables, \(report.rows) rows, \(files) (\(report.attachments.copied) written); counts and checksums match."
            )
        }

        /// The report as JSON, or as a table of rows and checksums.
        func show(_ report: StoreCopyReport) {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                if let data = try? encoder.encode(report) { printJSON(data) }
                return
            }
            let rows = report.tables.map { entry in
                [
                    entry.name, "\(entry.sourceRows)", "\(entry.targetRows)",
                    entry.matches ? "ok " + entry.sourceChecksum.prefix(16) : "DIFFERS",
                ]
            }
            let files = report.attachments
            print(
                table(
                    ["TABLE", "SQLITE", "POSTGRESQL", "CHECKSUM"],
                    rows + [
                        [
                            "attachments", "\(files.files)", "\(files.files - files.problems.count)",
                            files.problems.isEmpty ? "ok" : "DIFFERS",
                        ]
                    ]
                ))
        }

        /// The database file `--from` names: `sqlite:` is optional, and a data directory means its postdesk.sqlite.
        static func sqlitePath(_ argument: String) -> String {
            let path = argument.hasPrefix("sqlite:") ? String(argument.dropFirst("sqlite:".count)) : argument
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                return URL(fileURLWithPath: path, isDirectory: true).appendingPathComponent(BackupManifest.databaseName)
                    .path
            }
            return path
        }
    }
}
