import EntenteCSV
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Volume: many generated Salesforce rows (20 columns) through the reader and the converter.
@Suite("Throughput")
struct ThroughputTests {
    static let header = [
        "Opportunity Owner", "Account Name", "Opportunity Name", "Opportunity ID", "Type", "Stage", "Amount",
        "Opportunity Currency", "Probability (%)", "Close Date", "Created Date", "Next Step", "Lead Source",
        "Forecast Category", "Region", "Billing Country", "Delivery Model", "Loss Reason", "Description",
        "Fiscal Period",
    ]
    static let stages = ["Prospecting", "Qualification", "Value Proposition", "Negotiation/Review", "Closed Won"]

    /// `count` rows of 20 cells, every 10th with a quoted comma and a line break.
    static func generate(_ count: Int) -> String {
        var writer = CSVWriter(header: header)
        for index in 0..<count {
            let quoted = index % 10 == 0
            writer.append([
                "Owner \(index % 17)", quoted ? "Account \(index), Inc." : "Account \(index)", "Deal \(index)",
                "006\(String(index, radix: 16))", "New Customer", stages[index % stages.count],
                "\(index * 13 % 900_000 + 1000).50", index % 3 == 0 ? "EUR" : "USD", "\(index % 101)",
                "\(index % 12 + 1)/\(index % 28 + 1)/2027", "1/\(index % 28 + 1)/2026",
                quoted ? "Call\nthen \"demo\"" : "Call back", "Web", "Pipeline", "EMEA", "Germany", "SaaS;Marketplace",
                "", "Generated row \(index)", "Q\(index % 4 + 1)-2027",
            ])
        }
        return writer.text
    }

    @Test("20,000 generated rows convert, none lost (not timed)")
    func twentyThousand() throws {
        let plan = try CSVPlan(mapping: #require(Mapping.builtin(named: "salesforce-opportunity")))
        let path = try TemporaryFile.write(Self.generate(20_000))
        var lastProgress = 0
        let result = try plan.convert(fileAt: path, progress: { lastProgress = $0 })
        #expect(result.errors == [])
        #expect(result.rows.count == 20_000)
        #expect(lastProgress == 20_000)
        #expect(result.rows[10].value("account") == .string("Account 10, Inc."))
        #expect(result.rows[19_999].key == "006" + String(19_999, radix: 16))
        #expect(result.rows[19_999].line == 20_001 + 2_000, "every 10th row spans two lines")
    }

    /// A measurement, not a test of speed: `ENTENTE_CSV_BENCH=100000 swift test -c release --filter Throughput`.
    @Test(
        "measure parse and convert (set ENTENTE_CSV_BENCH to a row count)",
        .enabled(if: getenv("ENTENTE_CSV_BENCH") != nil)
    )
    func measure() throws {
        let count = getenv("ENTENTE_CSV_BENCH").flatMap { Int(String(cString: $0)) } ?? 100_000
        let plan = try CSVPlan(mapping: #require(Mapping.builtin(named: "salesforce-opportunity")))
        let text = Self.generate(count)
        let path = try TemporaryFile.write(text)
        let clock = ContinuousClock()
        var records = 0
        let parse = try clock.measure {
            let reader = try CSVReader(path: path)
            while try reader.next() != nil { records += 1 }
        }
        var result: CSVImportResult?
        let convert = try clock.measure { result = try plan.convert(fileAt: path) }
        #expect(records == count)
        #expect(result?.rows.count == count)
        let megabytes = Double(text.utf8.count) / 1_048_576
        print("CSV \(count) rows × 20 columns, \(Int(megabytes)) MiB: parse \(parse), parse+convert \(convert)")
    }
}
