-- description: The data dictionary as a table: every table and column of core and marts
-- description: with its type and its description, unit and caveats (the DuckDB comments
-- description: this model writes from assets/data_dictionary.yaml; the release keeps them).
-- depends: core.bridge_activity_country
-- depends: core.dim_activity
-- depends: core.dim_country
-- depends: core.dim_indicator
-- depends: core.dim_source
-- depends: core.fact_drug_seizure
-- depends: core.fact_indicator
-- depends: marts.activity_context
-- depends: marts.country_year
-- depends: marts.programme_coverage
-- depends: marts.region_year
-- GENERATED from assets/data_dictionary.yaml by
-- paccto_data.warehouse.reference.write_data_dictionary(): do not edit by hand.
-- A comment on a table or column that does not exist fails the build.
COMMENT ON TABLE core.dim_country IS 'Every UN M49 country or area (249), one row each: codes, English and Spanish names, regions, World Bank income group and the groups the programme works with. Caveat: Sark (M49 680) has no ISO 3166 code, so its iso3 is null. Group memberships come from the reviewed lists in assets/country_groups.yaml.';
COMMENT ON COLUMN core.dim_country.iso3 IS 'ISO 3166-1 alpha-3 code, the country key of every table.';
COMMENT ON COLUMN core.dim_country.iso2 IS 'ISO 3166-1 alpha-2 code.';
COMMENT ON COLUMN core.dim_country.m49 IS 'UN M49 numeric code as three digits with leading zeros (text).';
COMMENT ON COLUMN core.dim_country.name_en IS 'Name in English (UN M49).';
COMMENT ON COLUMN core.dim_country.name_es IS 'Name in Spanish (UN M49, through the DataHub country-codes crosswalk).';
COMMENT ON COLUMN core.dim_country.region IS 'M49 region (Americas, Europe, …).';
COMMENT ON COLUMN core.dim_country.sub_region IS 'M49 sub-region (Latin America and the Caribbean is 419).';
COMMENT ON COLUMN core.dim_country.intermediate_region IS 'M49 intermediate region (Caribbean, Central America, South America, …).';
COMMENT ON COLUMN core.dim_country.is_lac IS 'In Latin America and the Caribbean (M49 419, 52 areas).';
COMMENT ON COLUMN core.dim_country.lac_subregion IS 'LAC sub-region from the M49 intermediate region (Caribbean 029, Central America 013, South America 005); null outside LAC.';
COMMENT ON COLUMN core.dim_country.wb_region IS 'World Bank region. Caveat: Null for areas that are not World Bank economies.';
COMMENT ON COLUMN core.dim_country.income_group IS 'World Bank income group (Low, Lower middle, Upper middle, High income). Caveat: As of the World Development Indicators release the build used; null where the World Bank gives none (Venezuela is unclassified).';
COMMENT ON COLUMN core.dim_country.is_celac IS 'Member of the Community of Latin American and Caribbean States (33).';
COMMENT ON COLUMN core.dim_country.is_programme_partner IS 'Partner country of EL PAcCTO 2.0 (phase 2, from 2023-11-11; 31 countries). Caveat: Phase 1 (2017–2022) covered 18 Latin American countries, Venezuela and Nicaragua among them, and no Caribbean; there is no phase-1 flag yet.';
COMMENT ON COLUMN core.dim_country.programme_partner_group IS 'The programme''s group of a partner (Latin America or Caribbean); null otherwise. Caveat: The European Commission lists the Dominican Republic under Latin America.';
COMMENT ON COLUMN core.dim_country.is_ldc IS 'Least developed country (UN M49).';
COMMENT ON COLUMN core.dim_country.is_lldc IS 'Landlocked developing country (UN M49).';
COMMENT ON COLUMN core.dim_country.is_sids IS 'Small island developing state (UN M49).';
COMMENT ON TABLE core.dim_indicator IS 'One row per indicator of core.fact_indicator, from assets/indicators.yaml: English and Spanish title and description, unit, sources and the valid range the checks enforce.';
COMMENT ON COLUMN core.dim_indicator.indicator_id IS 'Indicator id (lower_snake_case), the key of core.fact_indicator.indicator_id.';
COMMENT ON COLUMN core.dim_indicator.title_en IS 'Title in English.';
COMMENT ON COLUMN core.dim_indicator.title_es IS 'Title in Spanish.';
COMMENT ON COLUMN core.dim_indicator.unit IS 'Unit of the indicator''s values.';
COMMENT ON COLUMN core.dim_indicator.description_en IS 'What the indicator measures, in English.';
COMMENT ON COLUMN core.dim_indicator.description_es IS 'What the indicator measures, in Spanish.';
COMMENT ON COLUMN core.dim_indicator.source_ids IS 'The sources that publish the indicator, comma-separated source ids (core.dim_source).';
COMMENT ON COLUMN core.dim_indicator.valid_min IS 'Smallest value the checks accept; null when unbounded. Unit: the indicator''s unit.';
COMMENT ON COLUMN core.dim_indicator.valid_max IS 'Largest value the checks accept; null when unbounded. Unit: the indicator''s unit.';
COMMENT ON TABLE core.dim_source IS 'One row per source in assets/sources/: publisher, producer, distributor, licence, whether its data may be redistributed, citation, vintage and retrieval date. Caveat: Licence decides what may be published: a column derived from a source whose redistribution is not "open" (TI''s CPI is CC BY-ND) stays in the warehouse.';
COMMENT ON COLUMN core.dim_source.source_id IS 'Source id, as used in every source_id column.';
COMMENT ON COLUMN core.dim_source.title IS 'Title of the source.';
COMMENT ON COLUMN core.dim_source.publisher IS 'Who releases the data.';
COMMENT ON COLUMN core.dim_source.producer IS 'Who compiles the numbers.';
COMMENT ON COLUMN core.dim_source.distributor IS 'Where the platform takes the file from, when that is not the publisher; null otherwise.';
COMMENT ON COLUMN core.dim_source.homepage IS 'The publisher''s page for the data.';
COMMENT ON COLUMN core.dim_source.licence IS 'Licence name.';
COMMENT ON COLUMN core.dim_source.licence_spdx IS 'SPDX identifier of the licence, where it has one.';
COMMENT ON COLUMN core.dim_source.licence_url IS 'Licence text.';
COMMENT ON COLUMN core.dim_source.redistribution IS 'open (may be republished), unmodified-only (only the publisher''s unmodified file) or internal (not at all).';
COMMENT ON COLUMN core.dim_source.citation IS 'How to cite the source.';
COMMENT ON COLUMN core.dim_source.vintage IS 'The publisher''s release (year, month or day) the platform holds.';
COMMENT ON COLUMN core.dim_source.retrieved IS 'When the bundled file was taken (YYYY-MM-DD).';
COMMENT ON TABLE core.fact_indicator IS 'Every indicator value for Latin America and the Caribbean, long: one row per country, year, indicator, source and disaggregation. Caveat: A missing country-year means the publisher reports none; it is not zero. Two sources may publish the same indicator (homicide_rate): filter on source_id. Totals have sex, age, category and dimension = ''total''.';
COMMENT ON COLUMN core.fact_indicator.iso3 IS 'Country (core.dim_country).';
COMMENT ON COLUMN core.fact_indicator.year IS 'Calendar year the value refers to.';
COMMENT ON COLUMN core.fact_indicator.indicator_id IS 'Indicator (core.dim_indicator).';
COMMENT ON COLUMN core.fact_indicator.source_id IS 'Source of the value (core.dim_source).';
COMMENT ON COLUMN core.fact_indicator.value IS 'The value, in the unit of the unit column. Unit: see unit.';
COMMENT ON COLUMN core.fact_indicator.unit IS 'Unit of the value (as in core.dim_indicator).';
COMMENT ON COLUMN core.fact_indicator.flag IS 'The publisher''s note or flag on the value; null when there is none.';
COMMENT ON COLUMN core.fact_indicator.sex IS 'Sex disaggregation; ''total'' when the value is for both sexes.';
COMMENT ON COLUMN core.fact_indicator.age IS 'Age disaggregation; ''total'' when the value is for all ages.';
COMMENT ON COLUMN core.fact_indicator.category IS 'Other disaggregation of the publisher (e.g. form of exploitation); ''total'' otherwise.';
COMMENT ON COLUMN core.fact_indicator.dimension IS 'Further breakdown of the publisher; ''total'' otherwise.';
COMMENT ON TABLE core.fact_drug_seizure IS 'Drug and precursor seizures in kilograms for LAC, by country, year, drug group, sub-group and drug (UNODC World Drug Report 2024, annex table 7.1, 2018–2022), one row per publisher row. Caveat: Never add rows marked is_total to the rows they total. Seizures reflect enforcement as much as trafficking, and countries report different drug lists.';
COMMENT ON COLUMN core.fact_drug_seizure.iso3 IS 'Country (core.dim_country).';
COMMENT ON COLUMN core.fact_drug_seizure.year IS 'Year of the seizures.';
COMMENT ON COLUMN core.fact_drug_seizure.drug_group IS 'UNODC drug group (Cocaine-type, Cannabis-type, …, Precursors), as published.';
COMMENT ON COLUMN core.fact_drug_seizure.drug_subgroup IS 'UNODC drug sub-group, as published.';
COMMENT ON COLUMN core.fact_drug_seizure.drug IS 'Drug as published.';
COMMENT ON COLUMN core.fact_drug_seizure.entry IS 'Numbers the rows where the file repeats a country, year, group, sub-group and drug.';
COMMENT ON COLUMN core.fact_drug_seizure.drug_label IS 'The publisher''s full label of the row.';
COMMENT ON COLUMN core.fact_drug_seizure.kilograms IS 'Quantity seized. Unit: kilograms.';
COMMENT ON COLUMN core.fact_drug_seizure.is_total IS 'The publisher labels the row as a total of other rows.';
COMMENT ON COLUMN core.fact_drug_seizure.is_precursor IS 'A precursor chemical, not a drug.';
COMMENT ON COLUMN core.fact_drug_seizure.source_id IS 'Source of the row (unodc_drug_seizures).';
COMMENT ON TABLE core.dim_activity IS 'One row per programme activity of the EL PAcCTO register (assets/activities/activities.csv): what it was, when, in which line of action, component and crime areas, who hosted it and the public page that reports it. Caveat: Compiled from public pages: dense for 2019–2022, thin for phase 2 and the Caribbean; several dates are approximated to the month (newsletter month) and countries under-count participation. Row-level caveats in assets/activities/SOURCE.md.';
COMMENT ON COLUMN core.dim_activity.activity_id IS 'Activity id, ACT- and four digits.';
COMMENT ON COLUMN core.dim_activity.title IS 'Short English paraphrase of what the page reports.';
COMMENT ON COLUMN core.dim_activity.start_date IS 'Start date; a date known only to the month is stored as the 1st of the month (see date_precision). Caveat: Newsletter-derived rows carry the newsletter month; the event may be a month earlier.';
COMMENT ON COLUMN core.dim_activity.date_precision IS 'Precision of start_date, ''day'' or ''month''.';
COMMENT ON COLUMN core.dim_activity.end_date IS 'End date of a multi-day activity, stored like start_date; null for one-day or unknown.';
COMMENT ON COLUMN core.dim_activity.end_date_precision IS 'Precision of end_date, ''day'' or ''month''; null without end_date.';
COMMENT ON COLUMN core.dim_activity.start_year IS 'Year of start_date, the year activities are counted and compared in.';
COMMENT ON COLUMN core.dim_activity.phase IS 'Programme phase from start_date: 1 before 2023-11-11, 2 (EL PAcCTO 2.0) from 2023-11-11 (a month counts as its 1st day).';
COMMENT ON COLUMN core.dim_activity.phase_name IS 'Name of the phase.';
COMMENT ON COLUMN core.dim_activity.line_of_action IS 'Line of action, 1 high-level strategic dialogue, 2 capacity building, 3 operational cooperation.';
COMMENT ON COLUMN core.dim_activity.line_of_action_name_en IS 'Name of the line of action in English.';
COMMENT ON COLUMN core.dim_activity.line_of_action_name_es IS 'Name of the line of action in Spanish.';
COMMENT ON COLUMN core.dim_activity.component IS 'Component, police, justice, penitentiary or cross-cutting. Caveat: The compiler''s classification of the page text.';
COMMENT ON COLUMN core.dim_activity.format IS 'Kind of activity, meeting, workshop, dialogue, technical_assistance, agreement, publication, operation or other.';
COMMENT ON COLUMN core.dim_activity.crime_areas IS 'Crime areas the activity addresses (codes of assets/activities/vocabularies.yaml), as a list; query with list_contains(crime_areas, ''corruption''). Caveat: The compiler''s classification of the page text.';
COMMENT ON COLUMN core.dim_activity.host_iso3 IS 'Host country (ISO3); null for virtual events or when the page does not say.';
COMMENT ON COLUMN core.dim_activity.n_countries IS 'Countries the activity names (core.bridge_activity_country), in and outside LAC. Unit: countries. Caveat: Zero when the page gives only a count ("12 Latin American countries").';
COMMENT ON COLUMN core.dim_activity.n_lac_countries IS 'Of those, countries in Latin America and the Caribbean. Unit: countries.';
COMMENT ON COLUMN core.dim_activity.n_partner_countries IS 'Of those, EL PAcCTO 2.0 partner countries. Unit: countries.';
COMMENT ON COLUMN core.dim_activity.partners IS 'Partner institutions named on the page, as a list (empty when none).';
COMMENT ON COLUMN core.dim_activity.source_url IS 'The public page that reports the activity.';
COMMENT ON COLUMN core.dim_activity.source_date IS 'Publication date shown on the page; null when it shows none.';
COMMENT ON COLUMN core.dim_activity.language_of_source IS 'Language of the page (ISO 639-1 code).';
COMMENT ON TABLE core.bridge_activity_country IS 'One row per activity and country it names: the countries listed on the cited page and the host, with its role. Countries outside LAC (EU venues and partners) are kept. Caveat: Under-counts participation where the page gives only a count or a subset of countries.';
COMMENT ON COLUMN core.bridge_activity_country.activity_id IS 'Activity (core.dim_activity).';
COMMENT ON COLUMN core.bridge_activity_country.iso3 IS 'Country (core.dim_country).';
COMMENT ON COLUMN core.bridge_activity_country.role IS 'host (the activity''s host_iso3) or participant.';
COMMENT ON COLUMN core.bridge_activity_country.listed_in_countries IS 'The register lists the country among the participating countries; false for a host the page does not also list (9 founding rows, mostly Brussels and The Hague), who took part all the same.';
COMMENT ON COLUMN core.bridge_activity_country.is_lac IS 'The country is in Latin America and the Caribbean (from core.dim_country).';
COMMENT ON COLUMN core.bridge_activity_country.is_programme_partner IS 'The country is an EL PAcCTO 2.0 partner (from core.dim_country).';
COMMENT ON TABLE marts.activity_context IS 'Each programme activity set against the indicators of the Latin American and Caribbean countries it names: one row per activity, LAC country and indicator mapped to one of its crime areas (assets/activities/crime_area_indicators.yaml), with a baseline (the latest value before the activity''s year), the latest value and the change. Missing values are rows with a status and a reason, never gaps. Caveat: The change is context, not impact: the programme is one influence among many, and a count such as detected victims or arms seized rises with enforcement effort. The register under-counts the countries an activity involved.';
COMMENT ON COLUMN marts.activity_context.activity_id IS 'Activity (core.dim_activity).';
COMMENT ON COLUMN marts.activity_context.start_year IS 'The activity''s year (core.dim_activity.start_year).';
COMMENT ON COLUMN marts.activity_context.phase IS 'The activity''s phase (1 or 2).';
COMMENT ON COLUMN marts.activity_context.line_of_action IS 'The activity''s line of action (1, 2 or 3).';
COMMENT ON COLUMN marts.activity_context.iso3 IS 'LAC country the activity names; null when it names none (status no_lac_country).';
COMMENT ON COLUMN marts.activity_context.country_name_en IS 'Name of the country in English.';
COMMENT ON COLUMN marts.activity_context.role IS 'The country''s role in the activity, host or participant.';
COMMENT ON COLUMN marts.activity_context.is_programme_partner IS 'The country is an EL PAcCTO 2.0 partner.';
COMMENT ON COLUMN marts.activity_context.indicator_id IS 'Indicator mapped to one of the activity''s crime areas; null when none is (status no_indicator_mapped).';
COMMENT ON COLUMN marts.activity_context.indicator_title_en IS 'Title of the indicator in English.';
COMMENT ON COLUMN marts.activity_context.unit IS 'Unit of baseline_value, latest_value and change.';
COMMENT ON COLUMN marts.activity_context.source_id IS 'The source the values are taken from (the mapping names it). Caveat: cpi_score (ti_cpi) is CC BY-ND: analysts may use it, publication refuses columns derived from it.';
COMMENT ON COLUMN marts.activity_context.via_crime_areas IS 'The activity''s crime areas that map to this indicator, as a list.';
COMMENT ON COLUMN marts.activity_context.baseline_year IS 'Year of baseline_value, the latest year before start_year with a value.';
COMMENT ON COLUMN marts.activity_context.baseline_value IS 'The latest value before the activity''s year (totals only). Unit: see unit.';
COMMENT ON COLUMN marts.activity_context.latest_year IS 'Year of latest_value, the latest year with a value.';
COMMENT ON COLUMN marts.activity_context.latest_value IS 'The latest value the source publishes for the country. Unit: see unit.';
COMMENT ON COLUMN marts.activity_context.change IS 'latest_value minus baseline_value; only when status is ok. Unit: see unit. Caveat: A difference in the indicator''s own unit (points for WGI and CPI scores), not a percentage.';
COMMENT ON COLUMN marts.activity_context.status IS 'ok; no_lac_country (the activity names no LAC country); no_indicator_mapped (none of its crime areas has an indicator); no_value (the source has no value for the country); no_baseline (no value before the activity''s year); no_value_since_activity (the latest value is older than the activity, so there is no change to report yet).';
COMMENT ON COLUMN marts.activity_context.reason IS 'The status in words; null when status is ok.';
COMMENT ON TABLE marts.country_year IS 'One row per Latin American and Caribbean country (52) and year: the headline indicators side by side with their sources, and how many programme activities named the country that year, by phase, line of action and crime area. Caveat: Years run from 1990 (the first homicide rate) to the last year with a value or an activity. A null indicator means its source has no value for that country and year.';
COMMENT ON COLUMN marts.country_year.iso3 IS 'Country (core.dim_country).';
COMMENT ON COLUMN marts.country_year.year IS 'Calendar year.';
COMMENT ON COLUMN marts.country_year.name_en IS 'Name of the country in English.';
COMMENT ON COLUMN marts.country_year.lac_subregion IS 'Caribbean, Central America or South America.';
COMMENT ON COLUMN marts.country_year.is_programme_partner IS 'EL PAcCTO 2.0 partner country.';
COMMENT ON COLUMN marts.country_year.homicide_rate IS 'Intentional homicide rate (SDG 16.1.1). Unit: victims per 100,000 population.';
COMMENT ON COLUMN marts.country_year.homicide_rate_source_id IS 'Source of homicide_rate (unodc_homicide); null when there is no value.';
COMMENT ON COLUMN marts.country_year.wgi_cc_estimate IS 'Worldwide Governance Indicators, control of corruption, estimate (higher is better). Unit: standard normal units (about -2.5 to 2.5). Caveat: No values for 1997, 1999 and 2001; compare years with the standard errors in core.fact_indicator.';
COMMENT ON COLUMN marts.country_year.wgi_cc_estimate_source_id IS 'Source of wgi_cc_estimate (wb_wgi); null when there is no value.';
COMMENT ON COLUMN marts.country_year.wgi_rl_estimate IS 'Worldwide Governance Indicators, rule of law, estimate (higher is better). Unit: standard normal units (about -2.5 to 2.5).';
COMMENT ON COLUMN marts.country_year.wgi_rl_estimate_source_id IS 'Source of wgi_rl_estimate (wb_wgi); null when there is no value.';
COMMENT ON COLUMN marts.country_year.cpi_score IS 'Transparency International Corruption Perceptions Index score. Unit: score (0 highly corrupt to 100 very clean). Caveat: CC BY-ND 4.0 — for analysis in the warehouse only, never republished.';
COMMENT ON COLUMN marts.country_year.cpi_score_source_id IS 'Source of cpi_score (ti_cpi); null when there is no value.';
COMMENT ON COLUMN marts.country_year.population IS 'Total population, mid-year (World Bank SP.POP.TOTL). Unit: persons.';
COMMENT ON COLUMN marts.country_year.population_source_id IS 'Source of population (wb_population); null when there is no value.';
COMMENT ON COLUMN marts.country_year.n_activities IS 'Programme activities that name the country that year, as host or participant. Unit: activities. Caveat: The register under-counts participation: some pages give only a count of countries, and it is thin for phase 2 and the Caribbean (assets/activities/SOURCE.md). Zero means no activity in the register, not none at all.';
COMMENT ON COLUMN marts.country_year.n_activities_hosted IS 'Of those, activities the country hosted that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_activities_phase_1 IS 'Of those, activities of phase 1 (started before 2023-11-11) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_activities_phase_2 IS 'Of those, activities of phase 2, EL PAcCTO 2.0 (started on or after 2023-11-11) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_line_1_dialogue IS 'Of those, activities of line of action 1, high-level strategic dialogue that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_line_2_capacity_building IS 'Of those, activities of line of action 2, capacity building that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_line_3_operational_cooperation IS 'Of those, activities of line of action 3, operational cooperation that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_organised_crime_general IS 'Of those, activities on organised crime (general) (crime area organised_crime_general) that year. Unit: activities. Caveat: An activity with several crime areas counts under each of them.';
COMMENT ON COLUMN marts.country_year.n_drug_trafficking IS 'Of those, activities on drug trafficking (crime area drug_trafficking) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_arms_trafficking IS 'Of those, activities on arms trafficking (crime area arms_trafficking) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_human_trafficking IS 'Of those, activities on trafficking in persons (crime area human_trafficking) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_migrant_smuggling IS 'Of those, activities on smuggling of migrants (crime area migrant_smuggling) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_cybercrime IS 'Of those, activities on cybercrime (crime area cybercrime) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_environmental_crime IS 'Of those, activities on environmental crime (crime area environmental_crime) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_cultural_property IS 'Of those, activities on trafficking in cultural property (crime area cultural_property) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_corruption IS 'Of those, activities on corruption (crime area corruption) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_money_laundering IS 'Of those, activities on money laundering (crime area money_laundering) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_asset_recovery IS 'Of those, activities on asset recovery (crime area asset_recovery) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_prison_system IS 'Of those, activities on prison system (crime area prison_system) that year. Unit: activities.';
COMMENT ON COLUMN marts.country_year.n_gender_violence IS 'Of those, activities on gender-based violence (crime area gender_violence) that year. Unit: activities.';
COMMENT ON TABLE marts.region_year IS 'Population-weighted aggregates of the rate indicators (per 100,000 population) for Latin America and the Caribbean, its three sub-regions and the 31 EL PAcCTO 2.0 partners, by year, indicator and source, with the share of the region''s population that the reporting countries cover. Caveat: Below two thirds of the population the aggregate is null with a reason: a region mean from a few countries would mislead. Countries without a World Bank population (some Caribbean territories) count in neither the numerator nor the denominator. Unlike UNODC''s regional estimates, nothing is imputed, so the aggregate moves when the set of reporting countries changes (the Caribbean''s coverage jumps from 73% to 98% in the years both Haiti and the Dominican Republic report): compare years with the same countries_weighted.';
COMMENT ON COLUMN marts.region_year.region_id IS 'lac, caribbean, central_america, south_america or programme_partners.';
COMMENT ON COLUMN marts.region_year.region_name IS 'Name of the region.';
COMMENT ON COLUMN marts.region_year.year IS 'Calendar year.';
COMMENT ON COLUMN marts.region_year.indicator_id IS 'Rate indicator (core.dim_indicator, unit per 100,000 population).';
COMMENT ON COLUMN marts.region_year.source_id IS 'Source of the countries'' values (core.dim_source).';
COMMENT ON COLUMN marts.region_year.unit IS 'Unit of value.';
COMMENT ON COLUMN marts.region_year.value IS 'Sum of rate times population over the reporting countries, divided by their population; null unless status is ok. Unit: see unit.';
COMMENT ON COLUMN marts.region_year.population_coverage IS 'Population of the reporting countries over the population of the region. Unit: share (0 to 1).';
COMMENT ON COLUMN marts.region_year.coverage_threshold IS 'Smallest population_coverage for which an aggregate is given (two thirds). Unit: share (0 to 1).';
COMMENT ON COLUMN marts.region_year.countries_in_region IS 'Countries and areas of the region (M49, territories included). Unit: countries.';
COMMENT ON COLUMN marts.region_year.countries_reporting IS 'Countries of the region with a value that year. Unit: countries.';
COMMENT ON COLUMN marts.region_year.countries_weighted IS 'Of those, countries with a World Bank population that year (the ones averaged). Unit: countries.';
COMMENT ON COLUMN marts.region_year.population_region IS 'Population of the region''s countries that have a World Bank population that year. Unit: persons.';
COMMENT ON COLUMN marts.region_year.population_reporting IS 'Population of the countries averaged. Unit: persons.';
COMMENT ON COLUMN marts.region_year.status IS 'ok; below_coverage (reporting countries hold less than the threshold); no_values (no country reports); no_population (no World Bank population for the year).';
COMMENT ON COLUMN marts.region_year.reason IS 'The status in words; null when status is ok.';
COMMENT ON TABLE marts.programme_coverage IS 'One row per Latin American and Caribbean country (52): partner or not, the programme activities that named it, by phase, line of action and crime area, its first and last activity, and the latest value of each headline indicator with its year and source. The table to open first. Caveat: Counts come from a register compiled from public pages: a zero means no activity in the register, not none at all (SOURCE.md lists 12 Caribbean partners with no row).';
COMMENT ON COLUMN marts.programme_coverage.iso3 IS 'Country (core.dim_country).';
COMMENT ON COLUMN marts.programme_coverage.name_en IS 'Name in English.';
COMMENT ON COLUMN marts.programme_coverage.name_es IS 'Name in Spanish.';
COMMENT ON COLUMN marts.programme_coverage.lac_subregion IS 'Caribbean, Central America or South America.';
COMMENT ON COLUMN marts.programme_coverage.is_programme_partner IS 'EL PAcCTO 2.0 partner country.';
COMMENT ON COLUMN marts.programme_coverage.programme_partner_group IS 'The programme''s group of a partner (Latin America or Caribbean); null otherwise.';
COMMENT ON COLUMN marts.programme_coverage.is_celac IS 'CELAC member.';
COMMENT ON COLUMN marts.programme_coverage.n_activities IS 'Programme activities that name the country, as host or participant. Unit: activities. Caveat: The register under-counts participation: some pages give only a count of countries, and it is thin for phase 2 and the Caribbean (assets/activities/SOURCE.md). Zero means no activity in the register, not none at all.';
COMMENT ON COLUMN marts.programme_coverage.n_activities_hosted IS 'Of those, activities the country hosted. Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_activities_phase_1 IS 'Of those, activities of phase 1 (started before 2023-11-11). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_activities_phase_2 IS 'Of those, activities of phase 2, EL PAcCTO 2.0 (started on or after 2023-11-11). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_line_1_dialogue IS 'Of those, activities of line of action 1, high-level strategic dialogue. Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_line_2_capacity_building IS 'Of those, activities of line of action 2, capacity building. Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_line_3_operational_cooperation IS 'Of those, activities of line of action 3, operational cooperation. Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_organised_crime_general IS 'Of those, activities on organised crime (general) (crime area organised_crime_general). Unit: activities. Caveat: An activity with several crime areas counts under each of them.';
COMMENT ON COLUMN marts.programme_coverage.n_drug_trafficking IS 'Of those, activities on drug trafficking (crime area drug_trafficking). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_arms_trafficking IS 'Of those, activities on arms trafficking (crime area arms_trafficking). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_human_trafficking IS 'Of those, activities on trafficking in persons (crime area human_trafficking). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_migrant_smuggling IS 'Of those, activities on smuggling of migrants (crime area migrant_smuggling). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_cybercrime IS 'Of those, activities on cybercrime (crime area cybercrime). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_environmental_crime IS 'Of those, activities on environmental crime (crime area environmental_crime). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_cultural_property IS 'Of those, activities on trafficking in cultural property (crime area cultural_property). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_corruption IS 'Of those, activities on corruption (crime area corruption). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_money_laundering IS 'Of those, activities on money laundering (crime area money_laundering). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_asset_recovery IS 'Of those, activities on asset recovery (crime area asset_recovery). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_prison_system IS 'Of those, activities on prison system (crime area prison_system). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.n_gender_violence IS 'Of those, activities on gender-based violence (crime area gender_violence). Unit: activities.';
COMMENT ON COLUMN marts.programme_coverage.first_activity_date IS 'Start date of the first activity that names the country; null if none.';
COMMENT ON COLUMN marts.programme_coverage.first_activity_id IS 'That activity (core.dim_activity).';
COMMENT ON COLUMN marts.programme_coverage.last_activity_date IS 'Start date of the latest activity that names the country; null if none.';
COMMENT ON COLUMN marts.programme_coverage.last_activity_id IS 'That activity (core.dim_activity).';
COMMENT ON COLUMN marts.programme_coverage.homicide_rate IS 'Latest intentional homicide rate. Unit: victims per 100,000 population.';
COMMENT ON COLUMN marts.programme_coverage.homicide_rate_year IS 'Year of homicide_rate.';
COMMENT ON COLUMN marts.programme_coverage.homicide_rate_source_id IS 'Source of homicide_rate (unodc_homicide).';
COMMENT ON COLUMN marts.programme_coverage.wgi_cc_estimate IS 'Latest WGI control of corruption estimate (higher is better). Unit: standard normal units (about -2.5 to 2.5).';
COMMENT ON COLUMN marts.programme_coverage.wgi_cc_estimate_year IS 'Year of wgi_cc_estimate.';
COMMENT ON COLUMN marts.programme_coverage.wgi_cc_estimate_source_id IS 'Source of wgi_cc_estimate (wb_wgi).';
COMMENT ON COLUMN marts.programme_coverage.wgi_rl_estimate IS 'Latest WGI rule of law estimate (higher is better). Unit: standard normal units (about -2.5 to 2.5).';
COMMENT ON COLUMN marts.programme_coverage.wgi_rl_estimate_year IS 'Year of wgi_rl_estimate.';
COMMENT ON COLUMN marts.programme_coverage.wgi_rl_estimate_source_id IS 'Source of wgi_rl_estimate (wb_wgi).';
COMMENT ON COLUMN marts.programme_coverage.cpi_score IS 'Latest Corruption Perceptions Index score. Unit: score (0 highly corrupt to 100 very clean). Caveat: CC BY-ND 4.0 — for analysis in the warehouse only, never republished.';
COMMENT ON COLUMN marts.programme_coverage.cpi_score_year IS 'Year of cpi_score.';
COMMENT ON COLUMN marts.programme_coverage.cpi_score_source_id IS 'Source of cpi_score (ti_cpi).';
COMMENT ON COLUMN marts.programme_coverage.population IS 'Latest total population. Unit: persons.';
COMMENT ON COLUMN marts.programme_coverage.population_year IS 'Year of population.';
COMMENT ON COLUMN marts.programme_coverage.population_source_id IS 'Source of population (wb_population).';
CREATE OR REPLACE TABLE marts.data_dictionary AS
SELECT schema_name, table_name, CAST(NULL AS VARCHAR) AS column_name,
       CAST(NULL AS INTEGER) AS column_index, CAST(NULL AS VARCHAR) AS data_type, comment
FROM duckdb_tables()
WHERE database_name = current_database() AND schema_name IN ('core', 'marts')
  AND NOT (schema_name = 'marts' AND table_name = 'data_dictionary')
UNION ALL
SELECT schema_name, table_name, column_name, CAST(column_index AS INTEGER), data_type,
       comment
FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name IN ('core', 'marts')
  AND NOT (schema_name = 'marts' AND table_name = 'data_dictionary')
ORDER BY schema_name, table_name, column_index NULLS FIRST;
COMMENT ON TABLE marts.data_dictionary IS 'This dictionary as a table: one row per warehouse table (column_name null) and per column, with its type and its description (the DuckDB comment, unit and caveats included). Caveat: It lists every table of core and marts except itself.';
COMMENT ON COLUMN marts.data_dictionary.schema_name IS 'core or marts.';
COMMENT ON COLUMN marts.data_dictionary.table_name IS 'Table name.';
COMMENT ON COLUMN marts.data_dictionary.column_name IS 'Column name; null on the row that describes the table.';
COMMENT ON COLUMN marts.data_dictionary.column_index IS 'Position of the column in the table (1 is the first); null on the table row.';
COMMENT ON COLUMN marts.data_dictionary.data_type IS 'DuckDB type of the column; null on the table row.';
COMMENT ON COLUMN marts.data_dictionary.comment IS 'What the table or column holds, its unit and caveats.';
