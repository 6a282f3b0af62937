import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

extension NotificationKind: ExpressibleByArgument {}
extension ConsoleLocale: ExpressibleByArgument {}

struct NotificationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notification", abstract: "The mails a project sends its customers, and their templates.",
        discussion: """
            Three notifications: received (the acknowledgement of a new request; off until turned on), comment (an
            agent's public comment) and resolved. Each has a template in English (en) and Japanese (ja); a
            customer gets the one of the language their request was written in. Templates are mustache: the
            subject and the text as written, the HTML with every value escaped. Values: {{request.key}},
            {{request.summary}}, {{request.status}}, {{project.key}}, {{project.name}}, {{customer.address}},
            {{customer.name}}, and for a comment {{comment.author}} and {{comment.body}}. postdesk puts the reply
            marker above the text and the HTML, and the request's key in the subject when the template leaves it out.

            Examples:
              postdesk notification show SD
              postdesk notification show SD --kind comment --language ja --preview
              postdesk notification set SD comment en --text-file comment.txt --html-file comment.html
              postdesk notification reset SD comment en
              postdesk notification received SD on
            """,
        subcommands: [Show.self, Set.self, Reset.self, Received.self])

    static func path(_ project: String, _ rest: String = "") -> String {
        "/v1/projects/\(project)/notifications" + rest
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Show the templates (the project's own or the built-in ones) and whether new requests are acknowledged.",
            discussion: """
                Examples:
                  postdesk notification show SD
                  postdesk notification show SD --kind received --language en
                  postdesk notification show SD --kind comment --language ja --preview
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The project key.") var project: String
        @Option(help: "received, comment or resolved; all when omitted.") var kind: NotificationKind?
        @Option(help: "en or ja; both when omitted.") var language: ConsoleLocale?
        @Flag(help: "Render the template with sample values (needs --kind and --language).") var preview = false

        func validate() throws {
            if preview, kind == nil || language == nil {
                throw ValidationError("--preview shows one template: give --kind and --language")
            }
        }

        func run() async throws {
            if preview, let kind, let language {
                let data = try await admin {
                    try await options.client.raw(
                        .GET, NotificationCommand.path(project, "/\(kind.rawValue)/\(language.rawValue)/preview"),
                        body: String?.none)
                }
                if options.json { return printJSON(data) }
                let rendered = try decodeAnswer(NotificationPreview.self, data)
                print("Subject: \(rendered.subject)\n\n\(rendered.text)\n\n--- HTML ---\n\(rendered.html)")
                return
            }
            let data = try await admin {
                try await options.client.raw(.GET, NotificationCommand.path(project), body: String?.none)
            }
            let settings = try decodeAnswer(ProjectNotifications.self, data)
            let shown = settings.templates.filter {
                (kind == nil || $0.kind == kind) && (language == nil || $0.language == language)
            }
            if options.json { return printJSON(try AdminJSONOutput.encode(shown)) }
            print(
                "New requests of \(settings.projectKey) are "
                    + (settings.notifyReceived
                        ? "acknowledged by mail."
                        : "not acknowledged (notification received \(settings.projectKey) on)."))
            for entry in shown {
                print(
                    "\n== \(entry.kind.rawValue) (\(entry.language.rawValue)), "
                        + (entry.custom ? "the project's own" : "built in") + " ==")
                print("Subject: \(entry.template.subject)")
                print("--- text ---\n\(entry.template.text)")
                print("--- HTML ---\n\(entry.template.html ?? "(the text, escaped)")")
            }
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give the project its own template of one kind in one language.",
            discussion: """
                The templates are checked before they are saved: one that does not parse is refused and nothing
                changes. The answer is the template rendered with sample values.

                Examples:
                  postdesk notification set SD comment en --text-file comment.txt
                  postdesk notification set SD resolved ja --text-file resolved.txt --html-file resolved.html \\
                      --subject '【{{request.key}}】解決済み: {{request.summary}}'
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The project key.") var project: String
        @Argument(help: "received, comment or resolved.") var kind: NotificationKind
        @Argument(help: "en or ja.") var language: ConsoleLocale
        @Option(help: "A file with the text template (UTF-8).") var textFile: String
        @Option(help: "A file with the HTML template; without it the HTML part is the text, escaped.")
        var htmlFile: String?
        @Option(help: "The subject template; the built-in one when omitted.") var subject: String?

        func run() async throws {
            let body = NotificationTemplateBody(
                subject: subject, text: try Self.read(textFile, "text"),
                html: try htmlFile.map { try Self.read($0, "HTML") })
            let data = try await admin {
                try await options.client.raw(
                    .PUT, NotificationCommand.path(project, "/\(kind.rawValue)/\(language.rawValue)"), body: body)
            }
            if options.json { return printJSON(data) }
            let rendered = try decodeAnswer(NotificationPreview.self, data)
            print(
                "Saved the \(kind.rawValue) template (\(language.rawValue)) of \(project.uppercased()). With sample values:"
            )
            print("Subject: \(rendered.subject)\n\n\(rendered.text)")
        }

        static func read(_ file: String, _ what: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: file) else {
                printError("cannot read the \(what) template file \(file)")
                throw ExitCode.failure
            }
            guard let text = String(data: data, encoding: .utf8) else {
                printError("the \(what) template file \(file) is not UTF-8")
                throw ExitCode.failure
            }
            return text
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Go back to the built-in template of one kind in one language.",
            discussion: """
                Example:
                  postdesk notification reset SD comment en
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "The project key.") var project: String
        @Argument(help: "received, comment or resolved.") var kind: NotificationKind
        @Argument(help: "en or ja.") var language: ConsoleLocale

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(
                    .DELETE, NotificationCommand.path(project, "/\(kind.rawValue)/\(language.rawValue)"),
                    body: String?.none)
            }
            if options.json { return printJSON(data) }
            let answer = try decodeAnswer(NotificationTemplateReset.self, data)
            print(
                answer.reset
                    ? "The \(kind.rawValue) notification (\(language.rawValue)) of \(project.uppercased()) uses the built-in template again."
                    : "\(project.uppercased()) had no \(kind.rawValue) template (\(language.rawValue)) of its own; nothing changed."
            )
        }
    }

    struct Received: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn the acknowledgement of new requests on or off.",
            discussion: """
                On, each new request from a customer is answered with the received notification (never to automatic
                mail, which makes no request, and not past the hourly limit of notifications to one address).

                Examples:
                  postdesk notification received SD on
                  postdesk notification received SD off
                """)
        /// The two settings.
        enum Switch: String, ExpressibleByArgument, CaseIterable {
            case on, off
        }
        @OptionGroup var options: AdminOptions
        @Argument(help: "The project key.") var project: String
        @Argument(help: "on or off.") var setting: Switch

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(
                    .PATCH, NotificationCommand.path(project),
                    body: NotificationSettingsBody(notifyReceived: setting == .on))
            }
            if options.json { return printJSON(data) }
            let settings = try decodeAnswer(ProjectNotifications.self, data)
            print(
                settings.notifyReceived
                    ? "New requests of \(settings.projectKey) are acknowledged by mail."
                    : "New requests of \(settings.projectKey) are not acknowledged.")
        }
    }
}
