"""The vehicle registry (机动车登记): who a plate belongs to, as reference data for the detectors."""
