import AdminAPI
import ArgumentParser
import PostdeskWire

struct CustomerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customer", abstract: "Manage a project's customers.",
        discussion: """
            Examples:
              postdesk customer add SD alice@customer.test --name Alice
              postdesk customer allow SD customer.test
            """,
        subcommands: [Add.self, List.self, Allow.self, Block.self, Rules.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a customer to a project.",
            discussion: """
                Example:
                  postdesk customer add SD alice@customer.test --name "Alice Example"
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String
        @Argument(help: "Customer's email address.") var address: String
        @Option(help: "Display name.") var name: String?

        func run() async throws {
            let body = CustomerBody(address: address, name: name)
            let data = try await admin {
                try await options.client.raw(.POST, "/v1/projects/\(project.uppercased())/customers", body: body)
            }
            if options.json { return printJSON(data) }
            print("Added customer \(address.lowercased()) to \(project.uppercased()).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a project's customers.",
            discussion: """
                Example:
                  postdesk customer list SD
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(.GET, "/v1/projects/\(project.uppercased())/customers", body: String?.none)
            }
            if options.json { return printJSON(data) }
            let customers = try decodeAnswer([CustomerView].self, data)
            print(table(["ADDRESS", "NAME"], customers.map { [$0.address, $0.name ?? ""] }))
        }
    }

    struct Allow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let an address or a whole domain raise requests under restricted signup.",
            discussion: """
                Examples:
                  postdesk customer allow SD customer.test
                  postdesk customer allow SD bob@partner.test --remove
                """)
        @OptionGroup var rule: RuleOptions
        func run() async throws { try await rule.change(.allow) }
    }

    struct Block: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Never turn mail from an address or a whole domain into requests or comments.",
            discussion: """
                Example:
                  postdesk customer block SD spam.test
                """)
        @OptionGroup var rule: RuleOptions
        func run() async throws { try await rule.change(.block) }
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a project's allow and block lists.",
            discussion: """
                Example:
                  postdesk customer rules SD
                """)
        @OptionGroup var options: AdminOptions
        @Argument(help: "Project key.") var project: String

        func run() async throws {
            let data = try await admin {
                try await options.client.raw(
                    .GET, "/v1/projects/\(project.uppercased())/customer-rules", body: String?.none)
            }
            if options.json { return printJSON(data) }
            let rules = try decodeAnswer([CustomerRuleBody].self, data)
            if rules.isEmpty { return print("No allow or block entries in \(project.uppercased()).") }
            print(table(["LIST", "ADDRESS OR DOMAIN"], rules.map { [$0.kind.rawValue, $0.pattern] }))
        }
    }
}

/// The arguments of `customer allow` and `customer block`.
struct RuleOptions: ParsableArguments {
    @OptionGroup var options: AdminOptions
    @Argument(help: "Project key.") var project: String
    @Argument(help: "An address (a@b.c) or a domain (b.c).") var pattern: String
    @Flag(help: "Remove the entry instead of adding it.") var remove = false

    /// Adds or removes the entry on one list and says what happened.
    func change(_ kind: CustomerRuleKind) async throws {
        let body = CustomerRuleBody(kind: kind, pattern: pattern)
        let path = "/v1/projects/\(project.uppercased())/customer-rules"
        let data = try await admin { try await options.client.raw(remove ? .DELETE : .POST, path, body: body) }
        if options.json { return printJSON(data) }
        let rule = try decodeAnswer(CustomerRuleBody.self, data)
        print(
            "\(remove ? "Removed" : "Added") \(rule.pattern) \(remove ? "from" : "to") the \(kind.rawValue) list of \(project.uppercased())."
        )
    }
}
