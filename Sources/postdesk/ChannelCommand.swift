import AdminAPI
import ArgumentParser
import ServiceDesk

extension MailboxProtocol: ExpressibleByArgument {}

struct ChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel", abstract: "Link and list mailboxes.", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Link a mailbox to a project; only mail arriving after linking is processed.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String
        @Option(help: "The support address customers write to.") var address: String
        @Option(name: .customLong("protocol"), help: "imap or pop3.") var mailProtocol: MailboxProtocol = .imap
        @Option(help: "Mail server host.") var host: String
        @Option(help: "Mail server port.") var port: Int
        @Option(help: "implicit, starttls or none.") var tls: ServerTLS
        @Option(help: "PEM file of a private CA to trust.") var caFile: String?
        @Option(help: "Login name.") var username: String
        @Option(help: "File holding the password (else read from stdin).") var passwordFile: String?
        @Option(help: "Request type new mail creates.") var requestType: String

        func run() async throws {
            let password = try readSecret(file: passwordFile, what: "mailbox password")
            let body = ChannelBody(
                address: address, protocol: mailProtocol, host: host, port: port, tls: tls, caFile: caFile,
                username: username, password: password, requestType: requestType)
            let data = try await admin {
                try await options.client.raw(.POST, "/v1/projects/\(project.uppercased())/channels", body: body)
            }
            if options.json { return printJSON(data) }
            print(
                "Linked \(address.lowercased()) to project \(project.uppercased()); new mail becomes \"\(requestType)\" requests."
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List linked mailboxes.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            let data = try await admin { try await options.client.raw(.GET, "/v1/channels", body: String?.none) }
            if options.json { return printJSON(data) }
            let channels = try decodeAnswer([ChannelView].self, data)
            print(
                table(
                    ["ADDRESS", "PROJECT", "PROTOCOL", "SERVER", "TLS", "ENABLED"],
                    channels.map {
                        [
                            $0.address, $0.project, $0.protocol.rawValue, "\($0.host):\($0.port)", $0.tls.rawValue,
                            $0.enabled ? "yes" : "no",
                        ]
                    }))
        }
    }
}
