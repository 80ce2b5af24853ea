import EntenteCore
import EntenteReports
import Testing

/// Each grouping against the fixture, by hand.
@Suite struct GroupingTests {
    @Test func noGrouping() throws {
        let report = try Fixture.report(.none)
        #expect(report.groups.isEmpty)
        #expect(!report.groupsOverlap)
    }

    @Test func byPartnerOverlaps() throws {
        let report = try Fixture.report(.partner)
        #expect(report.groupsOverlap)
        #expect(report.groups.map(\.key) == ["Globex", "Initech", "Umbrella", nil])
        // Globex: D1 D3 D6 · Initech: D2 D3 D4 D9 · Umbrella: D5 D8 D10 · no partner: D7 → 11 rows for 10 deals.
        #expect(report.groups.map(\.counts.total) == [3, 4, 3, 1])
        #expect(report.groups.reduce(0) { $0 + $1.counts.total } == 11)

        let globex = try #require(report.group("Globex"))
        #expect(globex.winRatio?.percent == exact("100"))
        #expect(globex.salesCycle?.averageDays == exact("60"))  // D1 60, D3 60
        // USD: 1 open (D6) × 100000 × 2/2 ÷ 60 days = 1666.666… per day
        #expect(globex.money(.usd)?.velocityPerDay == exact("1666.67"))
        // EUR: no open deal, so velocity is defined and zero.
        #expect(globex.money(.eur)?.velocityPerDay == exact("0"))

        let initech = try #require(report.group("Initech"))
        #expect(initech.salesCycle?.averageDays == exact("45"))  // D2 30, D3 60
        #expect(initech.winRatio?.percent == exact("66.67"))  // 2 / 3
        #expect(initech.partnerSourced.total == 3)  // D3 (Globex), D4, D9 (Initech)
        #expect(initech.partnerInfluenced.total == 1)  // D2

        let umbrella = try #require(report.group("Umbrella"))
        #expect(umbrella.salesCycle == nil)  // D10, its only win, has no close date
        #expect(umbrella.money(.usd)?.velocityPerDay == nil)

        let direct = try #require(report.group(nil))
        #expect(direct.counts.open == 1)
        #expect(direct.winRatio == nil)
        #expect(direct.money(.usd)?.pipeline == exact("30000"))
        #expect(renderTable(report).contains("group rows do not add up to the total"))
        #expect(renderHTML(report).contains("group rows do not add up to the total"))
    }

    @Test func byStageFollowsStageOrder() throws {
        let report = try Fixture.report(.stage)
        #expect(report.groups.map(\.key) == ["Qualification", "Proposal", "Closed Won", "Closed Lost", "Negotiation"])
        #expect(report.groups.map(\.counts.total) == [1, 2, 4, 2, 1])
        #expect(report.group("Closed Won")?.money(.usd)?.revenue == exact("160000"))
        #expect(!report.groupsOverlap)
    }

    @Test func byRegion() throws {
        let report = try Fixture.report(.region)
        #expect(report.groups.map(\.key) == ["EMEA", "NA", nil])
        // EMEA: D1 D3 D5 D8 · NA: D2 D4 D6 D7 D10 · none: D9
        #expect(report.groups.map(\.counts.total) == [4, 5, 1])
        let na = try #require(report.group("NA"))
        #expect(na.money(.usd)?.pipeline == exact("150000"))  // D6 + D7
        #expect(na.money(.usd)?.revenue == exact("60000"))  // D2 + D10
        #expect(na.winRatio?.percent == exact("66.67"))  // D2 D10 won, D4 lost
    }

    @Test func bySolution() throws {
        let report = try Fixture.report(.solution)
        #expect(report.groups.map(\.key) == ["Cloud", "Data", "Security", nil])
        // Cloud: D1 D3 D6 D9 · Data: D5 D8 · Security: D2 D4 D10 · none: D7
        #expect(report.groups.map(\.counts.total) == [4, 2, 3, 1])
    }

    @Test func byPeriod() throws {
        // Close date, else creation date: D1 03-12, D2 03-03, D3 05-14, D4 04-10, D5 05-20, D6 08-30,
        // D7 (created) 05-01, D8 07-15, D9 (created) 06-01, D10 (created) 02-20.
        let quarters = try Fixture.report(.period(.quarter))
        #expect(quarters.groups.map(\.key) == ["2025-Q1", "2025-Q2", "2025-Q3"])
        #expect(quarters.groups.map(\.counts.total) == [3, 5, 2])

        let months = try Fixture.report(.period(.month))
        #expect(
            months.groups.map(\.key) == ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08"]
        )
        #expect(months.groups.map(\.counts.total) == [1, 2, 1, 3, 1, 1, 1])

        let years = try Fixture.report(.period(.year))
        #expect(years.groups.map(\.key) == ["2025"])
        #expect(years.groups.first?.counts.total == 10)
    }

    @Test(arguments: ["none", "partner", "stage", "region", "solution", "month", "quarter", "year"])
    func groupingNamesRoundTrip(name: String) throws {
        let grouping = try #require(Grouping(name: name))
        #expect(grouping.name == name)
    }

    @Test func thisCompanyIsNeverAPartner() throws {
        // A deal Acme originated and only Acme takes part in is direct, however the participant list repeats.
        let deal = DealRecord(
            id: "X",
            title: "solo",
            stage: "Open",
            outcome: .open,
            amount: nil,
            created: Fixture.date("2025-01-01"),
            originatingCompany: "Acme",
            participants: ["Acme", "Acme", ""]
        )
        let report = try Report(deals: [deal], options: Fixture.options(.partner))
        #expect(report.partners.isEmpty)
        #expect(report.groups.map(\.key) == [nil])
        #expect(report.total.partnerSourced.total == 0)
        #expect(report.total.partnerInfluenced.total == 0)
    }
}

/// Currencies stay apart unless a rate table converts them.
@Suite struct CurrencyTests {
    @Test func neverMixesWithoutRates() throws {
        let report = try Fixture.report()
        #expect(report.conversion == nil)
        #expect(report.total.currencies.count == 2)
        let table = renderTable(report)
        #expect(table.contains("150,000.00"))  // USD pipeline
        #expect(table.contains("60,000.00"))  // EUR pipeline
        #expect(!table.contains("210,000.00"))  // never 150000 + 60000
    }

    @Test func convertsWithExactRates() throws {
        let rates = try #require(RateTable(target: .eur, rates: [.usd: exact64("0.9")]))
        let report = try Fixture.report(rates: rates)
        #expect(report.currencies == [.eur])
        #expect(report.conversion?.unconverted == [])
        let eur = try #require(report.total.money(.eur))
        #expect(eur.pipeline == exact("195000"))  // 150000 × 0.9 + 60000
        #expect(eur.revenue == exact("224000"))  // 160000 × 0.9 + 80000
        #expect(eur.averageWonDealSize == exact("56000"))  // 224000 / 4
        // 3 open × 56000 × 4/6 ÷ 50 = 2240 per day
        #expect(eur.velocityPerDay == exact("2240"))
        #expect(eur.counts.open == 3)
    }

    @Test func conversionIsExactNotFloatingPoint() throws {
        let rates = try #require(RateTable(target: .eur, rates: [.usd: exact64("0.9137")]))
        let report = try Fixture.report(rates: rates)
        let eur = try #require(report.total.money(.eur))
        #expect(eur.pipeline == exact("197055"))  // 150000 × 0.9137 = 137055, + 60000
        #expect(eur.revenue == exact("226192"))  // 160000 × 0.9137 = 146192, + 80000
        let deal = DealRecord(
            id: "C",
            title: "cents",
            stage: "Open",
            outcome: .open,
            amount: Fixture.money("0.10 USD"),
            created: Fixture.date("2025-01-01"),
            participants: ["Acme"]
        )
        let small = try Report(deals: [deal, deal, deal], options: Fixture.options(rates: rates))
        // 0.30 × 0.9137 = 0.27411 exactly
        #expect(small.total.money(.eur)?.pipeline.description == "0.27411")
        #expect(renderJSON(small).contains("\"pipeline\": \"0.27411\""))
    }

    @Test func currencyWithoutRateStaysApart() throws {
        let rates = try #require(RateTable(target: .eur, rates: [.usd: exact64("0.9")]))
        let pounds = DealRecord(
            id: "G",
            title: "pounds",
            stage: "Proposal",
            outcome: .open,
            amount: Fixture.money("1000.00 GBP"),
            created: Fixture.date("2025-06-01"),
            participants: ["Acme"]
        )
        let report = try Report(deals: Fixture.deals + [pounds], options: Fixture.options(rates: rates))
        #expect(report.currencies == [.eur, .gbp])
        #expect(report.conversion?.unconverted == [.gbp])
        #expect(report.total.money(.gbp)?.pipeline == exact("1000"))
        #expect(report.total.money(.eur)?.pipeline == exact("195000"))
        #expect(renderTable(report).contains("No rate for GBP"))
    }

    @Test func refusesNonPositiveRates() {
        #expect(RateTable(target: .eur, rates: [.usd: exact64("0")]) == nil)
        #expect(RateTable(target: .eur, rates: [.usd: exact64("-1")]) == nil)
        #expect(RateTable(target: .eur, rates: [.eur: exact64("2")]) == nil)
        #expect(RateTable(target: .eur, rates: [.eur: exact64("1")]) != nil)
    }
}
