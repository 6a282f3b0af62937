import AdminAPI
import ArgumentParser
import ServiceDesk

extension ServerTLS: ExpressibleByArgument {}

struct SMTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smtp", abstract: "Configure the SMTP relay notifications are sent through.",
        subcommands: [Set.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the SMTP relay.")
        @OptionGroup var options: AdminOptions
        @Option(help: "Relay host.") var host: String
        @Option(help: "Relay port (587 submission, 465 implicit TLS).") var port: Int
        @Option(help: "implicit, starttls or none.") var tls: ServerTLS
        @Option(help: "PEM file of a private CA to trust.") var caFile: String?
        @Option(help: "Sender address of notifications.") var from: String
        @Option(help: "User name, when the relay needs a login.") var username: String?
        @Option(help: "File holding the password (else read from stdin when --username is given).")
        var passwordFile: String?

        func run() async throws {
            let password = username == nil ? nil : try readSecret(file: passwordFile, what: "SMTP password")
            let body = SMTPBody(
                host: host, port: port, tls: tls, caFile: caFile, from: from, username: username, password: password)
            let data = try await admin { try await options.client.raw(.PUT, "/v1/smtp", body: body) }
            if options.json { return printJSON(data) }
            print("SMTP relay set: \(host):\(port) (\(tls.rawValue)), notifications from \(from).")
        }
    }
}
