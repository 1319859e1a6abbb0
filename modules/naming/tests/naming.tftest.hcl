variables {
  account_short_name = "ss"
  regions            = ["us-west-2", "eu-west-2"]
}

run "seed_names" {
  command = plan

  assert {
    condition     = output.name_prefixes == { "us-west-2" = "ss-oregon", "eu-west-2" = "ss-london" }
    error_message = "us-west-2 and eu-west-2 give the seed's ss-oregon / ss-london prefixes"
  }
  assert {
    condition     = output.region_short_names["eu-west-2"] == "london"
    error_message = "the built-in short name of eu-west-2 is london"
  }
}

run "security_home_region" {
  command = plan

  variables {
    account_short_name = "sec"
    regions            = ["us-east-1"]
  }

  assert {
    condition     = output.name_prefixes["us-east-1"] == "sec-virginia"
    error_message = "the seed's security account prefix is sec-virginia"
  }
}

run "unknown_region_falls_back_to_code_and_overrides_win" {
  command = plan

  variables {
    regions            = ["ap-southeast-5", "us-west-2"]
    region_short_names = { "us-west-2" = "pdx" }
  }

  assert {
    condition     = output.name_prefixes["ap-southeast-5"] == "ss-apsoutheast5"
    error_message = "a Region without a short name is named by its code without hyphens"
  }
  assert {
    condition     = output.name_prefixes["us-west-2"] == "ss-pdx"
    error_message = "region_short_names overrides the built-in short name"
  }
}

run "rejects_duplicate_prefixes" {
  command = plan

  variables {
    region_short_names = { "us-west-2" = "west", "eu-west-2" = "west" }
  }

  expect_failures = [output.name_prefixes]
}

run "longest_names_fit_every_module" {
  command = plan

  variables {
    account_short_name = "security"
    regions            = ["us-west-2"]
    region_short_names = { "us-west-2" = "oregonwestcoast" }
  }

  assert {
    condition     = length(output.name_prefixes["us-west-2"]) == 24
    error_message = "the longest allowed names give a 24-character prefix, the scan and patch automation limit"
  }
}

run "rejects_bad_account_short_name" {
  command = plan
  variables {
    account_short_name = "AWSshared"
  }
  expect_failures = [var.account_short_name]
}

run "rejects_reserved_account_short_name" {
  command = plan
  variables {
    account_short_name = "aws1"
  }
  expect_failures = [var.account_short_name]
}

run "rejects_bad_region" {
  command = plan
  variables {
    regions = ["us-west-2", "Oregon"]
  }
  expect_failures = [var.regions]
}

run "rejects_bad_region_short_name" {
  command = plan
  variables {
    region_short_names = { "us-west-2" = "Ore-gon" }
  }
  expect_failures = [var.region_short_names]
}
