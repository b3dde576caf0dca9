# Copyright (c) converge.virt contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cinder volume driver of the test cloud: Cinder's own fake driver, which keeps no data, plus
volumes made from Glance images and images made from volumes.

The fake driver inherits the LVM driver's image copies, which write to a block device that does
not exist; here the copy is skipped (the volume has no bytes to hold it), so that creating a
volume from an image, and booting a server from such a volume, run through the real API, the
scheduler and the volume manager.  Loaded by cinder-volume through PYTHONPATH (tests/cloud/start.sh).
"""

from cinder.tests import fake_driver


class FakeImageVolumeDriver(fake_driver.FakeLoggingVolumeDriver):
    """FakeLoggingVolumeDriver whose image copies are no-ops."""

    def copy_image_to_volume(self, context, volume, image_service, image_id, disable_sparse=False):
        """Nothing to write: the fake volume has no storage."""

    def copy_volume_to_image(self, context, volume, image_service, image_meta):
        """Uploads nothing: the fake volume has no bytes."""
