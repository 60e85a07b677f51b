# verification only: what destination.py would do for Azure lakes
import lakegate.ingest.destination as d
orig = d.lake_destination
def lake_destination(lake, *, compression="zstd"):
    bucket_url, dataset_name = d.split_lake_url(lake)
    options = {"bucket_url": bucket_url, "layout": d.DATA_LAYOUT, "enable_dataset_name_normalization": False}
    if lake.is_azure:
        from lakegate.lake.azure import dlt_destination_options
        options.update(dlt_destination_options(lake.settings))
    elif lake.storage_options:
        options["kwargs"] = dict(lake.storage_options)
    return d.LakeFilesystem(**options), dataset_name
d.lake_destination = lake_destination
