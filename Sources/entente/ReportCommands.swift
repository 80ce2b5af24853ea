import ArgumentParser
import Entente
import EntenteCore
import EntenteReports
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "KPIs of the joint pipeline from this company's view: pipeline, revenue, sourced vs influenced, win ratio.",
        discussion: """
            Computed from the opportunities this company takes part in: joint fields plus its own (private) deal \
            values. Money is per currency unless --rate gives exact rates into one currency. Partner-sourced deals \
            (the originating company is a partner) and partner-influenced deals (a partner takes part) are never \
            added together. See Specs/reports.md for every definition.
            Examples:
              entente report --by partner
              entente report --by quarter --rate EUR=0.92 --rate GBP=1.17 --to-currency USD
              entente report --html qbr.html --hide-private       (a page to share on screen with a partner)
            """
    )
    @OptionGroup var node: NodeOptions
    @Option(help: "Group by: none, partner, stage, region, solution, month, quarter, year.") var by = "none"
    @Option(help: ArgumentHelp("Convert into this currency (with --rate).", valueName: "CODE")) var toCurrency: String?
    @Option(help: ArgumentHelp("An exact rate into --to-currency, e.g. EUR=1.08 (repeatable).", valueName: "CODE=RATE"))
    var rate: [String] = []
    @Flag(help: "Leave this company's private values out (for screen sharing with a partner).") var hidePrivate = false
    @Option(help: ArgumentHelp("The report date (default: today, UTC).", valueName: "YYYY-MM-DD")) var asOf: String?
    @Option(help: "The report's title.") var title: String?
    @Flag(help: "Print the result as JSON.") var json = false
    @Flag(help: "Print the result as CSV.") var csv = false
    @Option(help: ArgumentHelp("Also write a self-contained HTML page with charts.", valueName: "FILE")) var html: String?

    func run() async throws {
        try await guarded {
            guard let grouping = Grouping(name: by) else {
                throw EntenteError(
                    .invalidArgument,
                    "unknown grouping '\(by)'; use none, partner, stage, region, solution, month, quarter or year"
                )
            }
            guard !(json && csv) else { throw EntenteError(.invalidArgument, "give --json or --csv, not both") }
            let rates = try rateTable()
            let day: CalendarDate
            if let asOf {
                guard let parsed = CalendarDate(asOf) else {
                    throw EntenteError(.invalidArgument, "'\(asOf)' is not a date such as 2027-03-31")
                }
                day = parsed
            } else {
                day = CalendarDate(daysSinceEpoch: Int64(Date().timeIntervalSince1970) / 86_400) ?? .unixEpoch
            }
            let opened = try node.open()
            let report = try await opened.report(
                ReportOptions(
                    thisCompany: "",
                    groupBy: grouping,
                    rates: rates,
                    hidePrivate: hidePrivate,
                    asOf: day,
                    title: title
                )
            )
            if let html {
                try writeFile(Array(renderHTML(report).utf8), to: html, what: "the HTML report")
                Output.progress("wrote \(html)")
            }
            let text = json ? renderJSON(report) : csv ? renderCSV(report) : renderTable(report)
            FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
        }
    }

    func rateTable() throws -> RateTable? {
        guard let toCurrency else {
            if !rate.isEmpty { throw EntenteError(.invalidArgument, "--rate needs --to-currency CODE") }
            return nil
        }
        guard let target = CurrencyCode(toCurrency) else {
            throw EntenteError(.invalidArgument, "'\(toCurrency)' is not an ISO 4217 currency code")
        }
        var rates: [CurrencyCode: DecimalNumber] = [:]
        for entry in rate {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let code = CurrencyCode(parts[0]), let value = DecimalNumber(parts[1]) else {
                throw EntenteError(.invalidArgument, "'\(entry)' is not a rate; write CODE=RATE, e.g. EUR=1.08")
            }
            rates[code] = value
        }
        guard let table = RateTable(target: target, rates: rates) else {
            throw EntenteError(.invalidArgument, "rates must be positive (and \(target) to itself is 1)")
        }
        return table
    }
}
